package sdk

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventgw/gateway/sdk/abi"
)

const getDoc = `{
	"amount": 12000, "currency":"eur", "ok": true, "no": false, "nothing": null,
	"neg": -1.5e-3,
	"customer": {"email": "ann@example.com", "name": "Ann \"A\" O\u0027Neil", "tags": []},
	"items": [ {"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1, "nested": [[1, 2], [3]]} ],
	"esc": "line\nbreak\ttab \\ slash\/ \u00e9 \ud83d\ude00 \ud800",
	"unicode": "héllo wörld ✓",
	"caf\u00e9": "key with escape",
	"a.b": "dotted key",
	"": "empty key",
	"dup": 1, "dup": 2,
	"quote\"key": "q",
	"obj": { "x" : { "y" : [ 10 , { "z" : "deep" } ] } }
}`

func TestGet(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"amount", "12000", true},
		{"currency", "eur", true},
		{"ok", "true", true},
		{"no", "false", true},
		{"nothing", "null", true},
		{"neg", "-1.5e-3", true},
		{"customer.email", "ann@example.com", true},
		{"customer.name", `Ann "A" O'Neil`, true},
		{"customer.tags", "[]", true},
		{"customer", `{"email": "ann@example.com", "name": "Ann \"A\" O\u0027Neil", "tags": []}`, true},
		{"items.0.sku", "A-1", true},
		{"items.1.qty", "1", true},
		{"items.1.nested.0.1", "2", true},
		{"items.1.nested.1", "[3]", true},
		{"items.0", `{"sku": "A-1", "qty": 2}`, true},
		{"esc", "line\nbreak\ttab \\ slash/ é 😀 \uFFFD", true},
		{"unicode", "héllo wörld ✓", true},
		{"café", "key with escape", true},
		{"", "empty key", true},
		{"dup", "1", true},
		{`quote"key`, "q", true},
		{"obj.x.y.1.z", "deep", true},
		{"obj.x.y.0", "10", true},
		// Missing or unreachable.
		{"missing", "", false},
		{"customer.phone", "", false},
		{"items.2", "", false},
		{"items.-1", "", false},
		{"items.x", "", false},
		{"items.01x", "", false},
		{"amount.x", "", false},
		{"customer.email.x", "", false},
		{"customer.tags.0", "", false},
		{"a.b", "", false}, // a dotted key can't be reached
		{"obj.x.y.1.z.q", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := get([]byte(getDoc), tt.path)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Get(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
			}
			if tt.ok {
				ref, rok := refGet([]byte(getDoc), tt.path)
				if tt.path != "dup" && (ref != got || !rok) {
					t.Errorf("reference Get(%q) = %q, %v", tt.path, ref, rok)
				}
			}
		})
	}
}

func TestGet_topLevel(t *testing.T) {
	tests := []struct {
		doc, path, want string
		ok              bool
	}{
		{`[1, "two", {"three": 3}]`, "1", "two", true},
		{`[1, "two", {"three": 3}]`, "2.three", "3", true},
		{` [ ] `, "0", "", false},
		{`"just a string"`, "x", "", false},
		{`42`, "x", "", false},
		{`{}`, "x", "", false},
		{"\t\r\n{\"a\"\n:\n\"b\"\n}\n", "a", "b", true},
		{`{"a":1}`, "a", "1", true},
		{`{"a":{"b":{"c":{"d":{"e":"f"}}}}}`, "a.b.c.d.e", "f", true},
		{`{"s": "[not {an] object"}`, "s", "[not {an] object", true},
		{`{"s": "[\"quoted\"]", "t": 1}`, "t", "1", true},
		{`{"bs": "\\", "t": 1}`, "t", "1", true},
		{`{"bs": "\\\"", "t": 1}`, "t", "1", true},
	}
	for _, tt := range tests {
		got, ok := get([]byte(tt.doc), tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Get(%s, %q) = %q, %v; want %q, %v", tt.doc, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGet_malformed(t *testing.T) {
	docs := []string{
		``, ` `, `{`, `}`, `[`, `]`, `{"a"`, `{"a":`, `{"a":"b`, `{"a":"b\`, `{"a":"\u12`,
		`{"a":"\q"}`, `{"a" 1}`, `{"a":1,}`, `{"a":1 "b":2}`, `{a:1}`, `[1,]`, `[,1]`,
		`{"a":[1,2}`, `{"a":{"b":1]}`, `{"a":tru`, `{"a":` + strings.Repeat("[", 100),
		`{"a":"\ud800\u"}`, "{\"a\":\"\xff\"}", `{"x":1,"a":}`, `nul`, `{"a"::1}`,
	}
	paths := []string{"a", "a.b", "a.0", "x", "0", ""}
	for _, d := range docs {
		for _, p := range paths {
			get([]byte(d), p) // must not panic
		}
	}
	// Malformed parts after the value are not looked at.
	if got, ok := get([]byte(`{"a":1,"b":`), "a"); got != "1" || !ok {
		t.Errorf("got %q, %v", got, ok)
	}
	for _, d := range []string{`{"a":"\q"}`, `{"a":"\u12"}`, `{"a":}`, `{"a":,}`} {
		if got, ok := get([]byte(d), "a"); ok {
			t.Errorf("Get(%s) = %q, true; want false", d, got)
		}
	}
}

// refGet is Get done with encoding/json, for the first occurrence of a key.
func refGet(doc []byte, path string) (string, bool) {
	cur := json.RawMessage(bytes.TrimSpace(doc))
	for _, seg := range strings.Split(path, ".") {
		dec := json.NewDecoder(bytes.NewReader(cur))
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var next json.RawMessage
		found := false
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return "", false
				}
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return "", false
				}
				if kt.(string) == seg && !found {
					next, found = v, true
				}
			}
		case json.Delim('['):
			n, err := strconv.Atoi(seg)
			if err != nil || strings.TrimLeft(seg, "0123456789") != "" {
				return "", false
			}
			for i := 0; dec.More(); i++ {
				var v json.RawMessage
				if err := dec.Decode(&v); err != nil {
					return "", false
				}
				if i == n {
					next, found = v, true
				}
			}
		}
		if !found {
			return "", false
		}
		cur = next
	}
	if cur[0] == '"' {
		var s string
		if err := json.Unmarshal(cur, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return string(cur), true
}

func FuzzGet(f *testing.F) {
	f.Add([]byte(getDoc), "customer.email")
	f.Add([]byte(getDoc), "items.1.nested.0.1")
	f.Add([]byte(getDoc), "esc")
	f.Add([]byte(`[{"a":"\u00e9"}]`), "0.a")
	f.Add([]byte(`{"a":[1,{"b":null}]}`), "a.1.b")
	f.Add([]byte(`{"\ud83d\ude00":"\\\""}`), "😀")
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		got, ok := get(doc, path) // never panics, on any input
		if !json.Valid(doc) || !utf8.Valid(doc) || !utf8.ValidString(path) {
			return
		}
		want, wok := refGet(doc, path)
		if got != want || ok != wok {
			t.Fatalf("Get(%s, %q) = %q, %v; encoding/json says %q, %v", doc, path, got, ok, want, wok)
		}
	})
}

// benchEvent is an 880-byte event, the size the reference measurements
// used.
var benchEvent = []byte(`{"id":"pay_01HZX4K9Q7M2","object":"payment","amount":12000,"amount_captured":12000,"currency":"eur","status":"succeeded","created":1767322800,"livemode":false,"description":"Order #10482 - 3 items","customer":{"id":"cus_9f8e7d6c","email":"ann.oneil@example.com","name":"Ann O'Neil","phone":"+33 6 12 34 56 78","address":{"line1":"12 rue de la Paix","city":"Paris","postal_code":"75002","country":"FR"}},"payment_method":{"type":"card","card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2028,"country":"FR","fingerprint":"Xt5EWLLDS7FJjR1c"}},"items":[{"sku":"TSHIRT-BLK-M","name":"T-shirt","qty":2,"unit_amount":2500},{"sku":"MUG-WHT","name":"Mug","qty":1,"unit_amount":1500},{"sku":"STICKER-PACK","name":"Stickers","qty":5,"unit_amount":700}],"metadata":{"order_id":"10482","channel":"web","campaign":"spring-sale","ip":"203.0.113.42"},"risk":{"score":12,"level":"normal"},"refunded":false}`)

func TestBenchEvent(t *testing.T) {
	if !json.Valid(benchEvent) || len(benchEvent) < 840 || len(benchEvent) > 920 {
		t.Fatalf("bench event: valid %v, %d bytes", json.Valid(benchEvent), len(benchEvent))
	}
	for _, p := range []string{"amount", "customer.email", "items.2.sku", "refunded"} {
		got, ok := get(benchEvent, p)
		want, wok := refGet(benchEvent, p)
		if got != want || ok != wok || !ok {
			t.Errorf("Get(%q) = %q, %v; want %q", p, got, ok, want)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	for _, p := range []string{"amount", "customer.email", "items.2.sku", "refunded"} {
		b.Run("path="+p, func(b *testing.B) {
			b.SetBytes(int64(len(benchEvent)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := get(benchEvent, p); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
	b.Run("json.Unmarshal=map", func(b *testing.B) {
		b.SetBytes(int64(len(benchEvent)))
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(benchEvent, &m); err != nil {
				b.Fatal(err)
			}
			_ = m["customer"].(map[string]any)["email"].(string)
		}
	})
	b.Run("json.Unmarshal=struct", func(b *testing.B) {
		b.SetBytes(int64(len(benchEvent)))
		b.ReportAllocs()
		for b.Loop() {
			var v struct {
				Customer struct {
					Email string `json:"email"`
				} `json:"customer"`
			}
			if err := json.Unmarshal(benchEvent, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var benchMeta = []byte(`{"id":"evt_01HZX4K9Q7M2ZP3V8T6W","type":"payment.created","source":"shop-eu","time":"2026-01-02T03:04:05.123456789Z","webhook_id":"wh_01HZX4KA0B"}`)

func BenchmarkParseMeta(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e Event
			if err := e.parseMeta(benchMeta); err != nil || e.webhookID == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m abi.Meta
			if err := json.Unmarshal(benchMeta, &m); err != nil || m.WebhookID == "" {
				b.Fatal(err)
			}
		}
	})
}
