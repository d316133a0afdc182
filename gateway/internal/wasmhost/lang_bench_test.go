package wasmhost

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

// The same filter in each guest language, for a table a plugin author can
// choose a language from (issue 5): examples/c-plugin/filter.c, and the same
// behaviour in Go with the SDK (testdata/lang/go/main.go) and in WAT
// (testdata/lang/filter.wat). TestLang_sameVerdicts checks that they agree;
// the BenchmarkLang_* functions measure each one.

// langFilter is one language's build of the filter.
type langFilter struct {
	name  string
	build func(tb testing.TB) []byte
}

// langs are the languages compared, in the order of the table in
// BENCHMARKS.md. Every benchmark and the agreement test run over it.
var langs = []langFilter{
	{"go", langGo},
	{"c", langC},
	{"wat", langWAT},
	{"assemblyscript", langAS},
}

// langConfig is the plugin config every language gets.
var langConfig = map[string]string{"blocked": "RU, KP", "flag_above": "1000"}

// langEvent is the typical event of the per-call benchmarks: compact, flat
// JSON (the WAT filter's byte scan needs it) whose country is not blocked
// and whose amount is under flag_above, so every guest reads both fields
// and both config values, and allows.
var langEvent = []byte(`{"order_id":"ord_123","currency":"EUR","email":"a@example.com","country":"DE","amount":420}`)

// langSpec is the filter's Spec under the default limits (50 ms deadline
// with the guard on, 256 pages, a pool of GOMAXPROCS).
func langSpec(name string, bin []byte) Spec {
	return Spec{Name: name, Wasm: bin, Kind: abi.KindFilter, Config: langConfig}
}

// langGo builds testdata/lang/go (the SDK's filter) with toolchain.Build.
func langGo(tb testing.TB) []byte {
	tb.Helper()
	return buildOnce(tb, "lang:go", func() ([]byte, error) {
		return buildDir(filepath.Join("testdata", "lang", "go"))
	})
}

// langAS builds examples/assemblyscript-plugin as `gateway plugin build`
// does: the project's asc (installed by npm ci) with its asconfig.json.
func langAS(tb testing.TB) []byte {
	tb.Helper()
	return buildOnce(tb, "lang:assemblyscript", func() ([]byte, error) {
		return buildDir(filepath.Join("..", "..", "..", "examples", "assemblyscript-plugin"))
	})
}

// langC builds examples/c-plugin as `gateway plugin build` does: clang
// with toolchain.ClangFlags and sdk/c/gw.h on the include path.
func langC(tb testing.TB) []byte {
	tb.Helper()
	return buildOnce(tb, "lang:c", func() ([]byte, error) {
		return buildDir(filepath.Join("..", "..", "..", "examples", "c-plugin"))
	})
}

// langWAT compiles testdata/lang/filter.wat with wat (harness_test.go).
func langWAT(tb testing.TB) []byte {
	tb.Helper()
	return wat(tb, filepath.Join("lang", "filter"))
}

// TestLang_sameVerdicts runs every language's filter through the real host
// on a blocked country, a large amount and an ordinary event, and checks
// that all give the same verdicts and reasons, and the expected ones.
func TestLang_sameVerdicts(t *testing.T) {
	cases := []struct {
		name, data string
		verdict    Verdict
		reason     string
	}{
		{"blocked country", `{"order_id":"ord_1","country":"KP","amount":20}`, Deny, "country KP is blocked"},
		{"large amount", `{"order_id":"ord_2","country":"FR","amount":2500}`, Flag, "amount 2500 is above flag_above 1000"},
		{"ordinary", `{"order_id":"ord_3","country":"FR","amount":25}`, Allow, ""},
	}
	ctx := context.Background()
	got := make(map[string][]FilterResult)
	for _, l := range langs {
		r := newRuntime(t, Options{})
		p := load(t, r, langSpec(l.name, l.build(t)))
		for _, c := range cases {
			res, err := p.Filter(ctx, testMeta(), []byte(c.data))
			require.NoError(t, err, "%s: %s", l.name, c.name)
			got[l.name] = append(got[l.name], res)
		}
	}
	first := langs[0].name
	for _, l := range langs {
		for i, c := range cases {
			res := got[l.name][i]
			require.Equal(t, got[first][i], res, "%s: %s: %s and %s differ", l.name, c.name, l.name, first)
			require.Equal(t, c.verdict, res.Verdict, "%s: %s: verdict", l.name, c.name)
			require.Equal(t, c.reason, res.Reason, "%s: %s: reason", l.name, c.name)
		}
	}
}

// BenchmarkLang_Size reports each module's size in bytes (the "bytes"
// metric). The timed loop is empty; run it with -benchtime 1x.
func BenchmarkLang_Size(b *testing.B) {
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			bin := l.build(b)
			for b.Loop() {
			}
			b.ReportMetric(float64(len(bin)), "bytes")
		})
	}
}

// BenchmarkLang_CompileCold is a first start: a fresh Runtime over an empty
// compilation cache directory loads the filter. One op is NewRuntime and
// Runtime.Load (the full compilation, validation, and the one instance Load
// creates to fail fast), then closing both. Run the Go case with a small
// -benchtime (e.g. 3x): one op is about a second.
func BenchmarkLang_CompileCold(b *testing.B) {
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			bin := l.build(b)
			for b.Loop() {
				b.StopTimer()
				dir, err := os.MkdirTemp("", "wasmhost-cold-")
				require.NoError(b, err)
				b.StartTimer()
				langRestart(b, dir, l.name, bin)
				b.StopTimer()
				_ = os.RemoveAll(dir)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkLang_LoadFromCache is a restart: the same op as
// BenchmarkLang_CompileCold over a cache directory a previous Runtime
// filled, so wazero reads the machine code instead of compiling.
func BenchmarkLang_LoadFromCache(b *testing.B) {
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			bin := l.build(b)
			dir := b.TempDir()
			langRestart(b, dir, l.name, bin)
			for b.Loop() {
				langRestart(b, dir, l.name, bin)
			}
		})
	}
}

// langRestart creates a Runtime over the cache in dir, loads the filter,
// and closes both.
func langRestart(tb testing.TB, dir, name string, bin []byte) {
	tb.Helper()
	ctx := context.Background()
	r, err := NewRuntime(ctx, Options{StorageDir: dir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	p, err := r.Load(ctx, langSpec(name, bin))
	require.NoError(tb, err)
	_ = p.Close(ctx)
	require.NoError(tb, r.Close(ctx))
}

// BenchmarkLang_Instantiate is what a pool pays for one more instance:
// from a loaded plugin (compiled module), one op creates an instance, which
// runs _initialize (the Go runtime's start, wasi-libc's constructors), and
// closes it.
func BenchmarkLang_Instantiate(b *testing.B) {
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			r := newRuntime(b, Options{})
			p := load(b, r, langSpec(l.name, l.build(b)))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				in, err := p.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				in.close(ctx)
			}
		})
	}
}

// BenchmarkLang_Filter is one Plugin.Filter call on langEvent (allow) under
// the default limits: the 50 ms deadline with the guard
// (WithCloseOnContextDone) on. <lang>/guard=off is the same call with the
// guard off and no per-call timeout, to show the guard's share. A call that
// fails (a 50 ms stall on a loaded machine) is counted in errors/op rather
// than failing the benchmark; a wrong verdict fails it.
func BenchmarkLang_Filter(b *testing.B) {
	for _, l := range langs {
		for _, off := range []bool{false, true} {
			name := l.name
			if off {
				name += "/guard=off"
			}
			b.Run(name, func(b *testing.B) { benchLangFilter(b, l, off) })
		}
	}
}

func benchLangFilter(b *testing.B, l langFilter, guardOff bool) {
	ctx := context.Background()
	r := newRuntime(b, Options{})
	spec := langSpec(l.name, l.build(b))
	spec.Limits.noCloseOnDone = guardOff
	p, err := r.Load(ctx, spec)
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	require.Equal(b, DefaultFilterTimeout, p.Limits().CallTimeout)
	meta := testMeta()
	b.ReportAllocs()
	var errs int
	for b.Loop() {
		res, err := p.Filter(ctx, meta, langEvent)
		if err != nil {
			errs++
			continue
		}
		if res.Verdict != Allow {
			b.Fatalf("verdict %s (%s)", res.Verdict, res.Reason)
		}
	}
	b.ReportMetric(float64(errs)/float64(b.N), "errors/op")
}

// langPoolN is how many instances BenchmarkLang_PoolMemory holds.
const langPoolN = 32

// BenchmarkLang_PoolMemory measures the memory of one more pooled instance,
// as BenchmarkPlugin_GoSDKPoolMemory does for the Go SDK: it loads the
// filter with PoolSize langPoolN, makes one call, then holds langPoolN
// instances at once (langPoolN-1 of them new), runs one call on each, and
// reports:
//
//   - RSS-KiB/inst: VmRSS growth per new instance;
//   - heapinuse-KiB/inst: the same with runtime.MemStats HeapInuse;
//   - pages/inst: the guest's linear memory after its call, in 64 KiB
//     pages (the largest of them).
//
// Every snapshot follows runtime.GC and debug.FreeOSMemory. The timed loop
// is plain Filter calls; its ns/op is not the point. Run each language in
// its own process (-bench 'Lang_PoolMemory/go$') for a clean RSS baseline.
func BenchmarkLang_PoolMemory(b *testing.B) {
	for _, l := range langs {
		b.Run(l.name, func(b *testing.B) {
			bin := l.build(b)
			ctx := context.Background()
			r := newRuntime(b, Options{})
			spec := langSpec(l.name, bin)
			spec.Limits.PoolSize = langPoolN
			p := load(b, r, spec)
			_, err := p.Filter(ctx, testMeta(), langEvent)
			require.NoError(b, err)
			loaded := snapMem(b)

			held := make([]*instance, 0, langPoolN)
			for range langPoolN {
				in, err := p.pool.acquire(ctx, time.Minute)
				require.NoError(b, err)
				held = append(held, in)
			}
			var pages uint32
			for _, in := range held {
				callHeld(b, in, langEvent)
				pages = max(pages, in.mod.Memory().Size()/65536)
			}
			after := snapMem(b)
			require.Equal(b, int32(langPoolN), p.pool.live.Load(), "live instances")
			for _, in := range held {
				p.pool.release(ctx, in, false)
			}

			meta := testMeta()
			for b.Loop() {
				if _, err := p.Filter(ctx, meta, langEvent); err != nil {
					b.Fatal(err)
				}
			}
			const extra = langPoolN - 1
			b.ReportMetric(float64(after.rssKiB-loaded.rssKiB)/extra, "RSS-KiB/inst")
			b.ReportMetric((float64(after.heapInuse)-float64(loaded.heapInuse))/1024/extra, "heapinuse-KiB/inst")
			b.ReportMetric(float64(pages), "pages/inst")
			b.Logf("%s: VmRSS %d -> %d KiB (%d held); HeapInuse %.1f -> %.1f MiB; guest memory %d pages",
				l.name, loaded.rssKiB, after.rssKiB, langPoolN,
				float64(loaded.heapInuse)/mib, float64(after.heapInuse)/mib, pages)
		})
	}
}
