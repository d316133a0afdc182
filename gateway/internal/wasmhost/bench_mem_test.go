package wasmhost

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// Go SDK guests for the benchmarks, built with goPlugin (guest_test.go).

// sdkEmpty is a Go SDK filter that allows every event without looking at
// it: the floor of a Go guest call (gw_alloc, the SDK's meta parsing and
// dispatch, the Go runtime's wasmexport entry and exit).
const sdkEmpty = `package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict { return sdk.Allow() })
}
`

// sdkGet is a Go SDK filter that reads one field with e.Get and does
// nothing else: no KV, no config, no log, no metric.
const sdkGet = `package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		if v, ok := e.Get("customer.country"); !ok || v == "" {
			return sdk.Flag("no customer.country")
		}
		return sdk.Allow()
	})
}
`

// goBenchData is the event the Go SDK benchmarks pass: customer.country is
// the last member of a nested object, so e.Get scans most of the document.
var goBenchData = []byte(`{"order":7,"amount":4200,"customer":{"id":"cus_9","email":"a@example.com","country":"DE"}}`)

// BenchmarkPlugin_FilterGoSDKGet is the cost of one Go SDK filter call
// through Plugin.Filter, deadline guard on unless the name says off:
//
//   - empty: the handler returns Allow without reading the event;
//   - get: one e.Get and nothing else (the "< 50 µs" case);
//   - get+kv_incr: sdkFraud, one e.Get, config_get, one Badger kv_incr
//     (in memory) and metric_add: the same guest as
//     BenchmarkPlugin_FilterGoSDK;
//   - */guard=off: WithCloseOnContextDone off and no per-call timeout.
func BenchmarkPlugin_FilterGoSDKGet(b *testing.B) {
	for _, tc := range []struct {
		name string
		src  string // "" is sdkFraud
		off  bool
	}{
		{"empty", sdkEmpty, false},
		{"get", sdkGet, false},
		{"get+kv_incr", "", false},
		{"empty/guard=off", sdkEmpty, true},
		{"get/guard=off", sdkGet, true},
		{"get+kv_incr/guard=off", "", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := newRuntime(b, Options{})
			spec := Spec{Name: "go", Limits: Limits{noCloseOnDone: tc.off}}
			if tc.src == "" {
				spec.Wasm = sdkPlugin(b)
				spec.Config = map[string]string{"limit": "1000000000"}
				spec.KV = kvFor(b, "go", 0)
			} else {
				spec.Wasm = goPlugin(b, tc.src)
			}
			p := load(b, r, spec)
			ctx := context.Background()
			meta := testMeta()
			b.ReportAllocs()
			for b.Loop() {
				res, err := p.Filter(ctx, meta, goBenchData)
				if err != nil {
					b.Fatal(err)
				}
				if res.Verdict != Allow {
					b.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
				}
			}
		})
	}
}

// BenchmarkRuntime_LoadGoSDKCold is a load of a Go plugin by a fresh
// Runtime whose compilation cache directory is empty: a full compilation,
// for contrast with BenchmarkRuntime_LoadGoSDKFromCache. Run it with a
// small -benchtime (e.g. 3x): one op is about a second or more.
func BenchmarkRuntime_LoadGoSDKCold(b *testing.B) {
	bin := sdkPlugin(b)
	ctx := context.Background()
	for b.Loop() {
		dir, err := os.MkdirTemp("", "wasmhost-cold-")
		require.NoError(b, err)
		r, err := NewRuntime(ctx, Options{StorageDir: dir})
		require.NoError(b, err)
		p, err := r.Load(ctx, Spec{Name: "fraud", Wasm: bin})
		require.NoError(b, err)
		_ = p.Close(ctx)
		require.NoError(b, r.Close(ctx))
		b.StopTimer()
		_ = os.RemoveAll(dir)
		b.StartTimer()
	}
}

// memSnap is the process's memory at one moment, after a GC that returned
// what it could to the OS.
type memSnap struct {
	rssKiB             int64
	heapInuse, heapSys uint64
	sys                uint64
}

func snapMem(tb testing.TB) memSnap {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnap{rssKiB: vmRSS(tb), heapInuse: ms.HeapInuse, heapSys: ms.HeapSys, sys: ms.Sys}
}

// vmRSS reads VmRSS from /proc/self/status, in KiB.
func vmRSS(tb testing.TB) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := bytes.CutPrefix([]byte(line), []byte("VmRSS:")); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, err := strconv.ParseInt(string(f[0]), 10, 64)
				require.NoError(tb, err)
				return n
			}
		}
	}
	tb.Skip("no VmRSS in /proc/self/status")
	return 0
}

const mib = 1 << 20

// callHeld runs one filter call on an instance the caller holds from
// pool.acquire: the body of Plugin.do without the pool, so that every held
// instance serves a call while all of them are alive at once.
func callHeld(tb testing.TB, in *instance, data []byte) {
	tb.Helper()
	st := &in.st
	st.output, st.outputSet, st.reason = nil, false, ""
	in.meta = appendMeta(in.meta[:0], testMeta())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc, err := in.call(&stateCtx{ctx, st}, data)
	require.NoError(tb, err)
	require.Equal(tb, int32(Allow), rc)
}

// BenchmarkPlugin_GoSDKPoolMemory measures the memory of a pooled Go
// instance: it loads the e.Get filter (sdkGet) with PoolSize N, then holds N
// instances at once (N acquires without release, as N concurrent calls
// would), runs one filter call on each, and reports:
//
//   - load-RSS-MiB: VmRSS after Load and one call, minus before Load
//     (compiled code, the runtime's share, and the first instance);
//   - RSS-MiB/inst: VmRSS growth per instance beyond the first
//     ((after N - after Load) / (N-1); for N=1 it is the load figure);
//   - heapinuse-MiB/inst and sys-MiB/inst: the same with runtime.MemStats
//     HeapInuse and Sys (Go heap spans in use count untouched pages too);
//   - pages/inst: the guest's linear memory, in 64 KiB pages, after its
//     call (the largest of the N).
//
// Every snapshot follows runtime.GC and debug.FreeOSMemory. Nothing is
// asserted about the figures. The timed loop is plain Filter calls on the
// full pool; its ns/op is not the point. Run each N in its own process
// (-bench 'PoolMemory/N=8$') for the cleanest RSS baseline.
func BenchmarkPlugin_GoSDKPoolMemory(b *testing.B) {
	for _, n := range []int{1, 8, 32} {
		b.Run("N="+strconv.Itoa(n), func(b *testing.B) {
			bin := goPlugin(b, sdkGet)
			ctx := context.Background()
			r := newRuntime(b, Options{})
			before := snapMem(b)
			p := load(b, r, Spec{Name: "mem", Wasm: bin, Limits: Limits{PoolSize: n}})
			_, err := p.Filter(ctx, testMeta(), goBenchData)
			require.NoError(b, err)
			loaded := snapMem(b)

			held := make([]*instance, 0, n)
			for range n {
				in, err := p.pool.acquire(ctx, time.Minute)
				require.NoError(b, err)
				held = append(held, in)
			}
			var pages uint32
			for _, in := range held {
				callHeld(b, in, goBenchData)
				pages = max(pages, in.mod.Memory().Size()/65536)
			}
			after := snapMem(b)
			require.Equal(b, int32(n), p.pool.live.Load(), "live instances")
			for _, in := range held {
				p.pool.release(ctx, in, false)
			}

			meta := testMeta()
			for b.Loop() {
				if _, err := p.Filter(ctx, meta, goBenchData); err != nil {
					b.Fatal(err)
				}
			}
			extra := float64(max(n-1, 1))
			base := loaded
			if n == 1 {
				base = before
			}
			loadRSS := float64(loaded.rssKiB-before.rssKiB) / 1024
			b.ReportMetric(loadRSS, "load-RSS-MiB")
			b.ReportMetric(float64(after.rssKiB-base.rssKiB)/1024/extra, "RSS-MiB/inst")
			b.ReportMetric((float64(after.heapInuse)-float64(base.heapInuse))/mib/extra, "heapinuse-MiB/inst")
			b.ReportMetric((float64(after.sys)-float64(base.sys))/mib/extra, "sys-MiB/inst")
			b.ReportMetric(float64(pages), "pages/inst")
			b.Logf("N=%d: VmRSS %d -> %d (loaded) -> %d KiB (N held); HeapInuse %.1f -> %.1f -> %.1f MiB; Sys %.1f -> %.1f -> %.1f MiB; guest memory %d pages (%.1f MiB)",
				n, before.rssKiB, loaded.rssKiB, after.rssKiB,
				float64(before.heapInuse)/mib, float64(loaded.heapInuse)/mib, float64(after.heapInuse)/mib,
				float64(before.sys)/mib, float64(loaded.sys)/mib, float64(after.sys)/mib,
				pages, float64(pages)/16)
		})
	}
}
