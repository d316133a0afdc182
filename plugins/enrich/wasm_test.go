package main

import (
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
)

// TestWasm runs the built plugin under the real host: one build per test
// binary.
func TestWasm(t *testing.T) {
	wasm := plugintest.Build(t, ".")
	p := plugintest.Load(t, wasm, plugintest.Options{Name: "enrich", Config: map[string]string{
		"add":         "meta.region=eu",
		"received_at": "meta.received_at",
		"type_prefix": "meta.category",
		"hash":        "meta.customer_key=customer.email",
	}})
	r := p.Run(plugintest.NewEvent("payment.created", `{"customer":{"email":"ann@example.com"}}`))
	want := `{"customer":{"email":"ann@example.com"},"meta":{"category":"payment","customer_key":"` + sha("ann@example.com") + `","received_at":"2026-01-02T03:04:05Z","region":"eu"}}`
	if !r.Replaced() || string(r.Output) != want {
		t.Fatalf("got %v\nwant %s", r, want)
	}
	if r := p.Run(plugintest.NewEvent("payment.created", `"text"`)); !r.Failed() {
		t.Fatalf("non-object data: %v, want a plugin error", r)
	}
}
