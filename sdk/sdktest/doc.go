// Package sdktest runs a Go plugin's handler under plain go test, against
// the SDK's in-memory fake host: config, a KV store with TTLs and a quota,
// captured logs and metrics. It is the native-build counterpart of the
// gateway: the handler a plugin registers in init runs exactly as it will
// in Wasm, with the same limits and status codes.
//
//	func TestDeniesLargePayments(t *testing.T) {
//		sdktest.Reset()
//		sdktest.SetConfig("max_amount", "10000")
//		r := sdktest.Run(sdktest.NewEvent("payment.created", `{"amount": 12000}`))
//		if !r.Denied() {
//			t.Fatalf("got %v, want deny", r)
//		}
//	}
//
// The fake host is one per test binary, like the plugin's registration:
// tests that use it must not run in parallel. The package compiles for
// every target, but Run and SDKEvent work only in the native build (not
// GOOS=wasip1).
package sdktest
