package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestTransform(t *testing.T) {
	data := `{"amount":12.5,"customer":{"email":"ann@example.com"},"env":"test","tags":[1]}`
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want string // "" means unchanged
	}{
		{"no config", nil, ""},
		{"add", map[string]string{"add": "env=prod, meta.region=eu-west-1, meta.team=payments"},
			`{"amount":12.5,"customer":{"email":"ann@example.com"},"env":"test","meta":{"region":"eu-west-1","team":"payments"},"tags":[1]}`},
		{"overwrite", map[string]string{"add": "env=prod", "overwrite": "true"},
			`{"amount":12.5,"customer":{"email":"ann@example.com"},"env":"prod","tags":[1]}`},
		{"existing field kept", map[string]string{"add": "env=prod"}, ""},
		{"computed", map[string]string{"received_at": "meta.received_at", "type_prefix": "category", "hash": "customer.key=customer.email"},
			`{"amount":12.5,"category":"payment","customer":{"email":"ann@example.com","key":"` + sha("ann@example.com") + `"},"env":"test","meta":{"received_at":"2026-01-02T03:04:05Z"},"tags":[1]}`},
		{"salted hash", map[string]string{"hash": "k=customer.email", "hash_salt": "s1"},
			`{"amount":12.5,"customer":{"email":"ann@example.com"},"env":"test","k":"` + sha("s1ann@example.com") + `","tags":[1]}`},
		{"hash of a missing field", map[string]string{"hash": "k=customer.phone"}, ""},
		{"parent not an object", map[string]string{"add": "tags.x=1, env.x=2"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sdktest.Reset()
			for k, v := range tc.cfg {
				sdktest.SetConfig(k, v)
			}
			r := sdktest.Run(sdktest.NewEvent("payment.created", data))
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

func TestTransform_hashIsStable(t *testing.T) {
	sdktest.Reset()
	sdktest.SetConfig("hash", "k=id")
	a := sdktest.Run(sdktest.NewEvent("x.y", `{"id":"u1","n":1}`))
	b := sdktest.Run(sdktest.NewEvent("x.y", `{"n":2,"id":"u1"}`))
	if !a.Replaced() || !strings.Contains(string(a.Output), sha("u1")) || !strings.Contains(string(b.Output), sha("u1")) {
		t.Fatalf("got %v and %v", a, b)
	}
}

func TestTransform_noTime(t *testing.T) {
	sdktest.Reset()
	sdktest.SetConfig("received_at", "at")
	ev := sdktest.NewEvent("x.y", `{}`)
	ev.Time = time.Time{}
	if r := sdktest.Run(ev); !r.Unchanged() {
		t.Fatalf("got %v, want unchanged", r)
	}
}

func TestTransform_errors(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]string
		data string
		err  string
	}{
		{map[string]string{"add": "env"}, `{}`, `add "env": want path=value`},
		{map[string]string{"add": "a..b=1"}, `{}`, "empty segment"},
		{map[string]string{"hash": "k"}, `{}`, `hash "k"`},
		{map[string]string{"overwrite": "yes"}, `{}`, `overwrite "yes"`},
		{map[string]string{"add": "a=1"}, `[1]`, "not a JSON object"},
		{map[string]string{"add": "a=1"}, `null`, "not a JSON object"},
	} {
		sdktest.Reset()
		for k, v := range tc.cfg {
			sdktest.SetConfig(k, v)
		}
		r := sdktest.Run(sdktest.NewEvent("x.y", tc.data))
		if !r.Failed() || !strings.Contains(r.Err.Error(), tc.err) {
			t.Errorf("config %v, data %s: got %v, want an error with %q", tc.cfg, tc.data, r, tc.err)
		}
	}
}
