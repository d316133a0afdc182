package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestTransform(t *testing.T) {
	data := `{"id":7,"customer":{"email":"ann@example.com","name":"Ann","phone":"+44 20 7946 0958"},"card":{"number":"4242424242424242","cvc":"123"},"items":[{"sku":"a","email":"x@y.z"},{"sku":"b","email":"q@r.s"}],"note":"<b>"}`
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want string // "" means unchanged
	}{
		{"no config", nil, ""},
		{"missing paths", map[string]string{"drop": "nope, customer.nope, items.9.sku", "mask": "card.nope"}, ""},
		{"drop", map[string]string{"drop": "card.cvc, customer"},
			`{"card":{"number":"4242424242424242"},"id":7,"items":[{"email":"x@y.z","sku":"a"},{"email":"q@r.s","sku":"b"}],"note":"<b>"}`},
		{"drop in every array element", map[string]string{"drop": "items.*.email, customer, card"},
			`{"id":7,"items":[{"sku":"a"},{"sku":"b"}],"note":"<b>"}`},
		{"rename", map[string]string{"rename": "customer.email:contact, id:order_id", "drop": "card,items,note"},
			`{"customer":{"contact":"ann@example.com","name":"Ann","phone":"+44 20 7946 0958"},"order_id":7}`},
		{"mask keeps the last 4", map[string]string{"mask": "card.number, card.cvc, id, items.1.sku", "drop": "customer,note"},
			`{"card":{"cvc":"***","number":"************4242"},"id":"*","items":[{"email":"x@y.z","sku":"a"},{"email":"q@r.s","sku":"*"}]}`},
		{"hash", map[string]string{"hash": "customer.email", "drop": "card,items,note,id,customer.name,customer.phone"},
			`{"customer":{"email":"` + sha("ann@example.com") + `"}}`},
		{"hash with salt", map[string]string{"hash": "customer.email", "hash_salt": "s1", "drop": "card,items,note,id,customer.name,customer.phone"},
			`{"customer":{"email":"` + sha("s1ann@example.com") + `"}}`},
		{"rename then mask the new name", map[string]string{"rename": "customer.phone:tel", "mask": "customer.tel", "drop": "card,items,note,id,customer.name,customer.email"},
			`{"customer":{"tel":"************0958"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdktest.Reset()
			for k, v := range tc.cfg {
				sdktest.SetConfig(k, v)
			}
			r := sdktest.Run(sdktest.NewEvent("order.created", data))
			if tc.want == "" {
				if !r.Unchanged() {
					t.Fatalf("got %v, want unchanged", r)
				}
				return
			}
			if !r.Replaced() || string(r.Output) != tc.want {
				t.Fatalf("got %v\nwant %s", r, tc.want)
			}
		})
	}
}

func TestTransform_errors(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		data string
		err  string
	}{
		{map[string]string{"rename": "a"}, `{"a":1}`, `rename "a": want path:newkey`},
		{map[string]string{"rename": "a:b.c"}, `{"a":1}`, `rename "a:b.c"`},
		{map[string]string{"drop": "a..b"}, `{"a":1}`, "empty path segment"},
		{map[string]string{"drop": "a"}, `not json`, "data is not JSON"},
	} {
		sdktest.Reset()
		for k, v := range tc.cfg {
			sdktest.SetConfig(k, v)
		}
		r := sdktest.Run(sdktest.NewEvent("x", tc.data))
		if !r.Failed() || r.Err == nil || !strings.Contains(r.Err.Error(), tc.err) {
			t.Errorf("config %v: got %v, want an error with %q", tc.cfg, r, tc.err)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[any]string{
		"":                 "",
		"abcd":             "****",
		"abcde":            "*bcde",
		"héllo wörld":      "*******örld",
		true:               "****",
		"4111111111111111": "************1111",
	} {
		if got := mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}
