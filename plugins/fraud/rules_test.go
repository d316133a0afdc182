package main

import (
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/sdk/sdktest"
)

// setConfig resets the fake host and sets cfg.
func setConfig(cfg map[string]string) {
	sdktest.Reset()
	for k, v := range cfg {
		sdktest.SetConfig(k, v)
	}
}

func TestCheck(t *testing.T) {
	base := map[string]string{
		"allowlist":            "customer.email",
		"allow_customer.email": "vip@example.com",
		"blocklist":            "ip, customer.email",
		"block_ip":             "10.0.0.1, 10.0.0.2",
		"block_customer.email": "fraud@example.com",
		"flag_above":           "1000",
		"deny_above":           "5000",
	}
	for _, tc := range []struct {
		name   string
		data   string
		want   string // allow, flag, deny
		reason string // substring of the reason
	}{
		{"plain", `{"amount": 10, "ip": "10.0.0.9"}`, "allow", ""},
		{"no amount", `{"ip": "10.0.0.9"}`, "allow", ""},
		{"blocked ip", `{"amount": 10, "ip": "10.0.0.2"}`, "deny", "blocklisted ip: 10.0.0.2"},
		{"blocked email any case", `{"customer": {"email": "Fraud@Example.com"}}`, "deny", "blocklisted customer.email: Fraud@Example.com"},
		{"flag", `{"amount": 1000.5}`, "flag", "amount 1000.5 above the flag threshold 1000"},
		{"amount as string", `{"amount": "2000"}`, "flag", "amount 2000 above the flag threshold"},
		{"at flag threshold", `{"amount": 1000}`, "allow", ""},
		{"deny", `{"amount": 9000}`, "deny", "amount 9000 above the deny threshold 5000"},
		{"allowlist bypasses block and amount", `{"amount": 9000, "ip": "10.0.0.1", "customer": {"email": "vip@example.com"}}`, "allow", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setConfig(base)
			r := sdktest.Run(sdktest.NewEvent("payment.created", tc.data))
			got := "allow"
			switch {
			case r.Failed():
				t.Fatalf("got %v", r)
			case r.Denied():
				got = "deny"
			case r.Flagged():
				got = "flag"
			}
			if got != tc.want || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("got %v, want %s with reason containing %q", r, tc.want, tc.reason)
			}
		})
	}
}

func TestCheck_velocity(t *testing.T) {
	setConfig(map[string]string{
		"velocity_key":    "card_id",
		"velocity_limit":  "2",
		"velocity_window": "1m",
		"velocity_types":  "payment.*",
	})
	pay := sdktest.NewEvent("payment.created", `{"card_id": "c1"}`)
	for i := range 2 {
		if r := sdktest.Run(pay); !r.Allowed() || r.Flagged() {
			t.Fatalf("payment %d: %v, want allow", i+1, r)
		}
	}
	r := sdktest.Run(pay)
	if !r.Denied() || r.Reason != "velocity: card_id c1 seen 3 times in 1m0s (limit 2)" {
		t.Fatalf("payment 3: %v, want a velocity deny", r)
	}
	if r := sdktest.Run(sdktest.NewEvent("payment.created", `{"card_id": "c2"}`)); !r.Allowed() {
		t.Fatalf("other card: %v, want allow", r)
	}
	if r := sdktest.Run(sdktest.NewEvent("refund.created", `{"card_id": "c1"}`)); !r.Allowed() {
		t.Fatalf("other type: %v, want allow (not counted)", r)
	}
	if r := sdktest.Run(sdktest.NewEvent("payment.created", `{}`)); !r.Allowed() {
		t.Fatalf("no key: %v, want allow", r)
	}
	if got := sdktest.KVKeys(); len(got) != 2 || got[0] != "velocity:card_id=c1" || got[1] != "velocity:card_id=c2" {
		t.Fatalf("KV keys %q", got)
	}
	sdktest.Advance(time.Minute + time.Second)
	if r := sdktest.Run(pay); !r.Allowed() {
		t.Fatalf("after the window: %v, want allow", r)
	}
}

func TestCheck_badConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg    map[string]string
		reason string
	}{
		{map[string]string{"flag_above": "lots"}, `flag_above "lots"`},
		{map[string]string{"deny_above": "-1"}, `deny_above "-1"`},
		{map[string]string{"velocity_key": "card_id"}, "velocity_limit is not"},
		{map[string]string{"velocity_key": "card_id", "velocity_limit": "0"}, `velocity_limit "0"`},
		{map[string]string{"velocity_key": "card_id", "velocity_limit": "3", "velocity_window": "soon"}, `velocity_window "soon"`},
		{map[string]string{"blocklist": "ip"}, "block_ip is not set"},
		{map[string]string{"allowlist": "email"}, "allow_email is not set"},
	} {
		setConfig(tc.cfg)
		r := sdktest.Run(sdktest.NewEvent("payment.created", `{"amount": 1}`))
		if !r.Flagged() || !strings.HasPrefix(r.Reason, "fraud: bad config: ") || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("config %v: got %v, want a bad-config flag about %q", tc.cfg, r, tc.reason)
		}
		if sdktest.Metric("config_errors") != 1 {
			t.Errorf("config %v: config_errors = %d", tc.cfg, sdktest.Metric("config_errors"))
		}
	}
}

func TestMatchType(t *testing.T) {
	for _, tc := range []struct {
		pattern, typ string
		want         bool
	}{
		{">", "a.b", true},
		{"*", "a", true},
		{"*", "a.b", false},
		{"payment.*", "payment.created", true},
		{"payment.*", "payment", false},
		{"payment.*", "payment.card.charged", false},
		{"payment.>", "payment.card.charged", true},
		{"payment.>", "payment", false},
		{"payment.*", "payments.created", false},
		{"*.created", "refund.created", true},
		{"payment.created", "payment.created", true},
		{"payment.created", "payment.failed", false},
	} {
		if got := matchType(tc.pattern, tc.typ); got != tc.want {
			t.Errorf("matchType(%q, %q) = %v", tc.pattern, tc.typ, got)
		}
	}
}

func TestVelocity_longValue(t *testing.T) {
	setConfig(map[string]string{"velocity_key": "token", "velocity_limit": "1"})
	ev := sdktest.NewEvent("payment.created", map[string]string{"token": strings.Repeat("t", 300)})
	sdktest.Run(ev)
	if r := sdktest.Run(ev); !r.Denied() {
		t.Fatalf("second event with a 300-byte key: %v, want a velocity deny", r)
	}
	if keys := sdktest.KVKeys(); len(keys) != 1 || !strings.HasPrefix(keys[0], "velocity:token#") {
		t.Fatalf("KV keys %q, want one hashed key", keys)
	}
}
