package wasmhost

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestRuntime_memoryBudget: instances reserve their memory limit from the
// Runtime's budget before they are created; one that does not fit is not
// created (ErrMemoryBudget, counted as busy, not as a crash), and closing
// instances gives the budget back.
func TestRuntime_memoryBudget(t *testing.T) {
	const pages = 16 // 1 MiB per instance
	r := newRuntime(t, Options{MaxMemoryBytes: 2 * pages * 65536})
	ctx := context.Background()
	p := load(t, r, Spec{Name: "a", Wasm: wat(t, "allow"), Limits: Limits{MemoryPages: pages, PoolSize: 4}})
	require.Equal(t, int64(pages*65536), r.MemoryReserved(), "the pre-warmed instance")

	// Hold the pre-warmed instance and a second one, as two calls would.
	in1, err := p.pool.acquire(ctx, testCallTimeout)
	require.NoError(t, err)
	in2, err := p.pool.acquire(ctx, testCallTimeout)
	require.NoError(t, err)
	require.Equal(t, int64(2*pages*65536), r.MemoryReserved())

	_, err = p.Filter(ctx, testMeta(), []byte("x"))
	requireErrContains(t, err, ErrMemoryBudget, `plugin "a"`)
	require.Equal(t, int64(1), p.Stats().Busy)
	require.Equal(t, int64(0), p.Stats().Crashes, "an exhausted budget is not a crash")

	// Another plugin cannot load while the budget is taken.
	_, err = r.Load(ctx, Spec{Name: "b", Wasm: wat(t, "allow"), Limits: Limits{MemoryPages: pages}})
	requireErrContains(t, err, ErrMemoryBudget, `plugin "b"`)

	p.pool.release(ctx, in1, true) // a broken instance closes: its share comes back
	p.pool.release(ctx, in2, false)
	require.Equal(t, int64(pages*65536), r.MemoryReserved())
	requireServes(t, p, "ok")
	require.NoError(t, p.Close(ctx))
	require.Equal(t, int64(0), r.MemoryReserved(), "after Close")
}
