package wasmhost

import (
	"context"
	"testing"
)

// benchData is a typical small event body.
var benchData = []byte(`0{"order_id":"ord_123","amount":4200,"currency":"EUR","customer":{"id":"cus_9","country":"DE"}}`)

// BenchmarkPlugin_Filter is the per-event cost of the plugin path for a WAT
// filter: acquire, meta encoding, gw_alloc, copy, gw_filter, release, with
// the deadline guard on (the production setting). Target: < 5 µs/op. The
// deadline is a minute (load's testCallTimeout), not 50 ms, so a loaded
// machine cannot fail the benchmark; the guard costs the same either way.
func BenchmarkPlugin_Filter(b *testing.B) {
	r := newRuntime(b, Options{})
	p := load(b, r, Spec{Name: "bench", Wasm: wat(b, "verdict")})
	ctx := context.Background()
	meta := testMeta()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Filter(ctx, meta, benchData); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlugin_Filter_parallel is the same call from GOMAXPROCS
// goroutines through one pool.
func BenchmarkPlugin_Filter_parallel(b *testing.B) {
	r := newRuntime(b, Options{})
	p := load(b, r, Spec{Name: "bench", Wasm: wat(b, "verdict")})
	meta := testMeta()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Filter(context.Background(), meta, benchData); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPlugin_closeOnContextDone measures the deadline guard: the same
// filter call with WithCloseOnContextDone off (and no per-call timeout) and
// on (with the per-call context.WithTimeout it needs).
func BenchmarkPlugin_closeOnContextDone(b *testing.B) {
	for _, tc := range []struct {
		name string
		off  bool
	}{{"off", true}, {"on", false}} {
		b.Run(tc.name, func(b *testing.B) {
			r := newRuntime(b, Options{})
			p := load(b, r, Spec{Name: "bench", Wasm: wat(b, "verdict"), Limits: Limits{noCloseOnDone: tc.off}})
			ctx := context.Background()
			meta := testMeta()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Filter(ctx, meta, benchData); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRuntime_Load is a warm reload of a WAT plugin already held by
// another plugin: no compilation, one instantiation.
func BenchmarkRuntime_Load(b *testing.B) {
	r := newRuntime(b, Options{})
	bin := wat(b, "verdict")
	load(b, r, Spec{Name: "keep", Wasm: bin})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := r.Load(ctx, Spec{Name: "bench", Wasm: bin})
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Close(ctx)
	}
}

// BenchmarkPlugin_callHeavy is one filter call that makes 21,891 guest
// calls and no loop (fib(20), testdata/fib.wat): the worst case for the
// entry guard of interrupt.go, which costs a counter increment per call
// and a deadline check per 1024 calls.
func BenchmarkPlugin_callHeavy(b *testing.B) {
	r := newRuntime(b, Options{})
	p := load(b, r, Spec{Name: "fib", Wasm: wat(b, "fib")})
	ctx := context.Background()
	meta := testMeta()
	for b.Loop() {
		if _, err := p.Filter(ctx, meta, []byte("f")); err != nil {
			b.Fatal(err)
		}
	}
}
