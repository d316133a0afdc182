package wasmhost

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

// TestOptions_onTimeout: a call that runs past its deadline is reported
// once to Options.OnTimeout (the audit trail) with the plugin, its kind and
// the deadline; a call that ends in time, or that its caller gives up, is
// not.
func TestOptions_onTimeout(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []string
	)
	r := newRuntime(t, Options{OnTimeout: func(plugin string, kind abi.Kind, deadline time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, fmt.Sprintf("%s %s %s", plugin, kind, deadline))
	}})
	p := load(t, r, Spec{Name: "loop", Wasm: wat(t, "loop"), Limits: Limits{PoolSize: 1, CallTimeout: 200 * time.Millisecond}})
	_, err := p.Filter(context.Background(), testMeta(), []byte("L"))
	require.ErrorIs(t, err, ErrTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = p.Filter(ctx, testMeta(), []byte("L"))
	requireServes(t, p, "ok")

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "[loop filter 200ms]", fmt.Sprint(calls))
}
