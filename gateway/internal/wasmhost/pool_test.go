package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestPlugin_hammer sends many concurrent calls through one small pool,
// checking every answer and that the pool never passes its bound.
func TestPlugin_hammer(t *testing.T) {
	r := newRuntime(t, Options{})
	const size = 4
	// 64 goroutines on a few CPUs under -race can leave a goroutine that
	// holds an instance unscheduled for longer than the 50 ms default, so
	// the deadline is lifted: this test is about the pool, not deadlines.
	p := load(t, r, Spec{Name: "hammer", Wasm: wat(t, "verdict"), Limits: Limits{PoolSize: size, AcquireTimeout: time.Minute, CallTimeout: time.Minute}})
	const goroutines, calls = 64, 200
	var wg sync.WaitGroup
	var wrong atomic.Int64
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				want := Verdict((g + i) % 3)
				res, err := p.Filter(context.Background(), testMeta(), fmt.Appendf(nil, "%d", want))
				if err != nil {
					errs <- err
					return
				}
				if res.Verdict != want {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(0), wrong.Load(), "calls with a wrong verdict")
	require.True(t, p.pool.maxLive.Load() <= size, "pool grew to %d instances, bound %d", p.pool.maxLive.Load(), size)
	require.Equal(t, int64(goroutines*calls), p.Stats().Calls)
}

func TestPlugin_busy(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "busy", Wasm: wat(t, "loop"), Limits: Limits{PoolSize: 1, AcquireTimeout: time.Millisecond, CallTimeout: time.Minute}})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(started)
		_, err := p.Filter(ctx, testMeta(), []byte("L"))
		done <- err
	}()
	<-started
	require.Eventually(t, "the looping call to hold the only instance", func() bool {
		_, err := p.Filter(context.Background(), testMeta(), []byte("ok"))
		return errors.Is(err, ErrBusy)
	})
	cancel()
	require.ErrorIs(t, require.Receive(t, done, "the looping call to end"), context.Canceled)
	requireServes(t, p, "ok")
}

// TestPlugin_Retire: a retired plugin serves the calls in flight, then
// closes; a call after that gets ErrClosed.
func TestPlugin_Retire(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "old", Wasm: wat(t, "loop"), Limits: Limits{PoolSize: 2, CallTimeout: time.Minute}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Filter(ctx, testMeta(), []byte("L"))
		done <- err
	}()
	require.Eventually(t, "the call to be in flight", func() bool { return p.life.Load()&lifeCount == 1 })
	p.Retire()
	requireServes(t, p, "ok") // still open: one call in flight
	cancel()
	require.Receive(t, done, "the in-flight call to end")
	_, err := p.Filter(context.Background(), testMeta(), []byte("ok"))
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, 0, p.Stats().Instances)

	idle := load(t, r, Spec{Name: "idle", Wasm: wat(t, "allow")})
	idle.Retire()
	_, err = idle.Filter(context.Background(), testMeta(), nil)
	require.ErrorIs(t, err, ErrClosed, "an idle plugin closes at once")
}

// TestPlugin_swap swaps plugins under load, as the pipeline will: no call
// fails, given that a caller that gets ErrClosed (it loaded the pointer
// just before a swap) reloads it and retries.
func TestPlugin_swap(t *testing.T) {
	r := newRuntime(t, Options{})
	var cur atomic.Pointer[Plugin]
	cur.Store(load(t, r, Spec{Name: "v", Wasm: wat(t, "allow")}))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	var lastErr atomic.Value
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := cur.Load().Filter(context.Background(), testMeta(), nil)
				for errors.Is(err, ErrClosed) { // loaded just before a swap
					_, err = cur.Load().Filter(context.Background(), testMeta(), nil)
				}
				if err != nil {
					failures.Add(1)
					lastErr.Store(err)
				}
			}
		})
	}
	for i := range 20 {
		next := load(t, r, Spec{Name: "v", Wasm: wat(t, "allow"), Config: map[string]string{"gen": fmt.Sprint(i)}})
		cur.Swap(next).Retire()
	}
	close(stop)
	wg.Wait()
	require.Equal(t, int64(0), failures.Load(), "failed calls, the last: %v", lastErr.Load())
}

func TestRuntime_compileOnce(t *testing.T) {
	r := newRuntime(t, Options{})
	bin := wat(t, "allow")
	p1 := load(t, r, Spec{Name: "a", Wasm: bin})
	p2 := load(t, r, Spec{Name: "b", Wasm: bin})
	require.Equal(t, int64(1), r.compiles.Load(), "the same bytes compile once")
	require.Equal(t, p1.Hash(), p2.Hash())
	load(t, r, Spec{Name: "c", Wasm: bin, Limits: Limits{MemoryPages: 32}})
	require.Equal(t, int64(2), r.compiles.Load(), "another limits class compiles in its own runtime")
	require.NoError(t, p1.Close(context.Background()))
	require.NoError(t, p2.Close(context.Background()))
	load(t, r, Spec{Name: "d", Wasm: bin})
	require.Equal(t, int64(3), r.compiles.Load(), "released with its last plugin")
}

// TestRuntime_cacheDir: compiled code lands in <storage>/wasm-cache and a
// new Runtime on the same directory reuses it rather than adding to it.
func TestRuntime_cacheDir(t *testing.T) {
	dir := t.TempDir()
	files := func() []string {
		var out []string
		_ = filepath.WalkDir(filepath.Join(dir, "wasm-cache"), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, path)
			}
			return nil
		})
		return out
	}
	r1 := newRuntime(t, Options{StorageDir: dir})
	load(t, r1, Spec{Name: "a", Wasm: wat(t, "allow")})
	require.NoError(t, r1.Close(context.Background()))
	first := files()
	require.True(t, len(first) > 0, "no files in the cache dir")
	stat, err := os.Stat(first[0])
	require.NoError(t, err)

	r2 := newRuntime(t, Options{StorageDir: dir})
	p := load(t, r2, Spec{Name: "a", Wasm: wat(t, "allow")})
	requireServes(t, p, "")
	require.Equal(t, len(first), len(files()), "the second runtime added cache files")
	again, err := os.Stat(first[0])
	require.NoError(t, err)
	require.True(t, again.ModTime().Equal(stat.ModTime()), "the cache file was rewritten")
}
