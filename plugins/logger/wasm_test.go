package main

import (
	"log/slog"
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
)

// TestWasm runs the built plugin under the real host: one build per test
// binary.
func TestWasm(t *testing.T) {
	wasm := plugintest.Build(t, ".")
	p := plugintest.Load(t, wasm, plugintest.Options{Name: "logger", Config: map[string]string{
		"fields": "amount,customer.email",
		"redact": "customer.email",
	}})
	r := p.Run(plugintest.NewEvent("order.created", data))
	want := `{"id":"evt_test","type":"order.created","source":"plugintest","time":"2026-01-02T03:04:05Z","fields":{"amount":"12.5","customer.email":"[redacted]"}}`
	if r.Failed() || len(r.Logs) != 1 || r.Logs[0].Msg != want || r.Logs[0].Level != slog.LevelInfo {
		t.Fatalf("got %v, logs %+v\nwant one info line %s", r, r.Logs, want)
	}
	if got := p.Metrics()["logged"]; got != 1 {
		t.Fatalf("metric logged = %d", got)
	}
	bad := plugintest.Load(t, wasm, plugintest.Options{Name: "logger", Config: map[string]string{"rate": "7"}})
	if r := bad.Run(plugintest.NewEvent("order.created", `{}`)); !r.Failed() {
		t.Fatalf("bad rate: %v, want a plugin error", r)
	}
}
