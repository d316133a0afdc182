package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/sdktest"
)

func setConfig(cfg map[string]string) {
	sdktest.Reset()
	for k, v := range cfg {
		sdktest.SetConfig(k, v)
	}
}

const data = `{"amount":12.5,"paid":true,"customer":{"email":"ann@example.com","name":"Ann"},"items":[{"sku":"a"}],"note":"say \"hi\""}`

func TestObserve(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"meta only", nil,
			`{"id":"evt_test","type":"order.created","source":"sdktest","time":"2026-01-02T03:04:05Z"}`},
		{"fields", map[string]string{"fields": "amount, paid, customer.name, items.0.sku, note, missing"},
			`{"id":"evt_test","type":"order.created","source":"sdktest","time":"2026-01-02T03:04:05Z","fields":{"amount":"12.5","paid":"true","customer.name":"Ann","items.0.sku":"a","note":"say \"hi\""}}`},
		{"objects stay JSON", map[string]string{"fields": "items,customer", "redact": "amount"},
			`{"id":"evt_test","type":"order.created","source":"sdktest","time":"2026-01-02T03:04:05Z","fields":{"items":[{"sku":"a"}],"customer":{"email":"ann@example.com","name":"Ann"}}}`},
		{"redact", map[string]string{"fields": "customer.email,customer.name,customer,amount", "redact": "customer.email"},
			`{"id":"evt_test","type":"order.created","source":"sdktest","time":"2026-01-02T03:04:05Z","fields":{"customer.email":"[redacted]","customer.name":"Ann","customer":"[redacted]","amount":"12.5"}}`},
		{"redact a parent", map[string]string{"fields": "customer.email", "redact": "customer"},
			`{"id":"evt_test","type":"order.created","source":"sdktest","time":"2026-01-02T03:04:05Z","fields":{"customer.email":"[redacted]"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setConfig(tc.cfg)
			r := sdktest.Run(sdktest.NewEvent("order.created", data))
			if r.Failed() || len(r.Logs) != 1 {
				t.Fatalf("got %v, logs %v; want one line", r, r.Logs)
			}
			if l := r.Logs[0]; l.Level != sdk.LevelInfo || l.Msg != tc.want {
				t.Fatalf("line %s %s\nwant %s", l.Level, l.Msg, tc.want)
			}
			if !json.Valid([]byte(r.Logs[0].Msg)) {
				t.Fatal("line is not JSON")
			}
		})
	}
}

func TestObserve_levelAndWebhook(t *testing.T) {
	setConfig(map[string]string{"level": "WARN"})
	ev := sdktest.NewEvent("a.b", `{}`)
	ev.Source, ev.WebhookID = "", "wh_1"
	r := sdktest.Run(ev)
	if len(r.Logs) != 1 || r.Logs[0].Level != sdk.LevelWarn || r.Logs[0].Msg != `{"id":"evt_test","type":"a.b","time":"2026-01-02T03:04:05Z","webhook_id":"wh_1"}` {
		t.Fatalf("logs %v", r.Logs)
	}
}

func TestObserve_sampling(t *testing.T) {
	for _, tc := range []struct {
		rate     string
		min, max int // lines logged out of 1000
	}{
		{"0", 0, 0},
		{"1", 1000, 1000},
		{"0.1", 60, 140},
		{"0.5", 440, 560},
	} {
		setConfig(map[string]string{"rate": tc.rate})
		ev := sdktest.NewEvent("a.b", `{}`)
		for i := range 1000 {
			ev.ID = fmt.Sprintf("evt_%d", i)
			sdktest.Run(ev)
		}
		if got := len(sdktest.Logs()); got < tc.min || got > tc.max {
			t.Errorf("rate %s: %d lines of 1000, want %d..%d", tc.rate, got, tc.min, tc.max)
		}
		if got := sdktest.Metric("logged") + sdktest.Metric("sampled_out"); got != 1000 {
			t.Errorf("rate %s: logged+sampled_out = %d", tc.rate, got)
		}
	}
	// The same id gets the same decision every time: two calls, each with
	// its own config load, log an event both times or neither time.
	setConfig(map[string]string{"rate": "0.5"})
	ev := sdktest.NewEvent("a.b", `{}`)
	kept := 0
	for i := range 100 {
		ev.ID = fmt.Sprintf("evt_%d", i)
		before := sdktest.Metric("logged")
		sdktest.Run(ev)
		sdktest.Run(ev)
		switch sdktest.Metric("logged") - before {
		case 2:
			kept++
		case 1:
			t.Fatalf("%s: logged once in two calls; sampling is not stable", ev.ID)
		}
	}
	if kept == 0 || kept == 100 {
		t.Fatalf("rate 0.5 kept %d of 100 ids; the stability check saw one outcome only", kept)
	}
}

func TestObserve_badConfig(t *testing.T) {
	for cfg, want := range map[[2]string]string{
		{"rate", "2"}:     `rate "2"`,
		{"rate", "half"}:  `rate "half"`,
		{"level", "loud"}: `level "loud"`,
	} {
		setConfig(map[string]string{cfg[0]: cfg[1]})
		r := sdktest.Run(sdktest.NewEvent("a.b", `{}`))
		if !r.Failed() || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("%s=%s: got %v, want an error with %q", cfg[0], cfg[1], r, want)
		}
	}
}
