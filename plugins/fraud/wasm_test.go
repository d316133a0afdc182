package main

import (
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
)

// TestWasm runs the built plugin under the real host and Badger KV: one
// build per test binary, shared by the subtests.
func TestWasm(t *testing.T) {
	wasm := plugintest.Build(t, ".")
	p := plugintest.Load(t, wasm, plugintest.Options{Name: "fraud", Config: map[string]string{
		"allowlist":            "customer.email",
		"allow_customer.email": "vip@example.com",
		"blocklist":            "ip",
		"block_ip":             "10.0.0.1",
		"flag_above":           "1000",
		"deny_above":           "5000",
		"velocity_key":         "card_id",
		"velocity_limit":       "2",
		"velocity_types":       "payment.*",
	}})
	for _, tc := range []struct {
		name, data, want, reason string
	}{
		{"allow", `{"card_id": "c1", "amount": 10}`, "allow", ""},
		{"flag", `{"card_id": "c1", "amount": 2000}`, "flag", "amount 2000 above the flag threshold 1000"},
		{"velocity", `{"card_id": "c1", "amount": 10}`, "deny", "velocity: card_id c1 seen 3 times in 1m0s (limit 2)"},
		{"blocked", `{"card_id": "c2", "ip": "10.0.0.1"}`, "deny", "blocklisted ip: 10.0.0.1"},
		{"deny above", `{"card_id": "c3", "amount": 6000}`, "deny", "amount 6000 above the deny threshold 5000"},
		{"allowlisted", `{"card_id": "c1", "amount": 6000, "customer": {"email": "vip@example.com"}}`, "allow", ""},
	} {
		r := p.Run(plugintest.NewEvent("payment.created", tc.data))
		got := "allow"
		switch {
		case r.Failed():
			t.Fatalf("%s: %v", tc.name, r)
		case r.Denied():
			got = "deny"
		case r.Flagged():
			got = "flag"
		}
		if got != tc.want || r.Reason != tc.reason {
			t.Errorf("%s: got %v, want %s (%s)", tc.name, r, tc.want, tc.reason)
		}
	}
	if n, ok := p.KVInt("velocity:card_id=c1"); !ok || n != 3 {
		t.Errorf("kv velocity:card_id=c1 = %d, %v; want 3", n, ok)
	}
	if m := p.Metrics(); m["denied"] != 3 || m["flagged"] != 1 {
		t.Errorf("metrics %v, want denied 3, flagged 1", m)
	}
	r := plugintest.Load(t, wasm, plugintest.Options{Name: "fraud", Config: map[string]string{"flag_above": "x"}}).
		Run(plugintest.NewEvent("payment.created", `{}`))
	if !r.Flagged() || len(r.Logs) != 1 || r.Logs[0].Msg != `fraud: flag_above "x": want a positive number` {
		t.Errorf("bad config: %v, logs %v", r, r.Logs)
	}
}
