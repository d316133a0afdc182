package main

import (
	"errors"
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
)

// TestWasm runs the built plugin under the real host: one build per test
// binary.
func TestWasm(t *testing.T) {
	wasm := plugintest.Build(t, ".")
	p := plugintest.Load(t, wasm, plugintest.Options{Name: "redact", Config: map[string]string{
		"drop":   "card.cvc",
		"rename": "customer.email:contact",
		"mask":   "card.number",
		"hash":   "customer.contact",
	}})
	ev := plugintest.NewEvent("order.created", `{"card":{"number":"4242424242424242","cvc":"123"},"customer":{"email":"ann@example.com"}}`)
	ev.WebhookID = "wh_partner"
	r := p.Run(ev)
	want := `{"card":{"number":"************4242"},"customer":{"contact":"` + sha("ann@example.com") + `"}}`
	if !r.Replaced() || string(r.Output) != want {
		t.Fatalf("got %v\nwant %s", r, want)
	}
	if r := p.Run(plugintest.NewEvent("order.created", `{"other":1}`)); !r.Unchanged() {
		t.Fatalf("no matching path: %v, want unchanged", r)
	}
	if r := p.Run(plugintest.NewEvent("order.created", `[1,`)); !errors.Is(r.Err, plugintest.ErrPluginError) {
		t.Fatalf("bad JSON: %v, want a plugin error", r)
	}
	if got := p.Metrics()["redacted"]; got != 1 {
		t.Fatalf("metric redacted = %d, want 1", got)
	}
}
