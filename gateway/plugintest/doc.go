// Package plugintest runs a built WebAssembly plugin under the gateway's
// real host (the same wazero runtime, limits and gw_v1 host functions as the
// server, except a generous call deadline: DefaultCallTimeout) with a real
// KV store on a temporary Badger directory, so a plugin author can assert
// what the .wasm does under plain `go test`. It is the second testing tier;
// sdk/sdktest is the first (the handler, natively, against a fake host).
//
//	wasm := plugintest.Build(t, ".")                   // once per process
//	p := plugintest.Load(t, wasm, plugintest.Options{Config: map[string]string{"velocity_limit": "2"}})
//	r := p.Run(plugintest.NewEvent("payment.created", `{"card_id":"c1"}`))
//	if !r.Denied() { t.Fatalf("got %v", r) }
//	n, _ := p.KVInt("velocity:c1")
//
// Build compiles a Go plugin directory once per test process (per
// directory); Load gives each test its own runtime and store, closed by
// t.Cleanup. A Plugin is safe for concurrent Runs, but the Logs of a Result
// are only exact when Runs do not overlap.
package plugintest
