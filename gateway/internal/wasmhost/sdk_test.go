package wasmhost

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

// sdkFraud is a Go SDK filter: velocity by e-mail with kv_incr, the limit
// from config, one field read with e.Get.
const sdkFraud = `package main

import (
	"strconv"
	"time"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		limit := int64(3)
		if v, ok := sdk.Config("limit"); ok {
			limit, _ = strconv.ParseInt(v, 10, 64)
		}
		email, ok := e.Get("customer.email")
		if !ok {
			return sdk.Flag("no customer.email")
		}
		n := sdk.KVIncr("seen:"+email, 1, time.Minute)
		sdk.MetricAdd("checked", 1)
		if n > limit {
			sdk.Log(sdk.LevelInfo, "denied "+email)
			return sdk.Deny("velocity: " + strconv.FormatInt(n, 10) + " orders a minute from " + email)
		}
		return sdk.Allow()
	})
}
`

// sdkPlugin builds sdkFraud with goPlugin (guest_test.go).
func sdkPlugin(tb testing.TB) []byte {
	tb.Helper()
	return goPlugin(tb, sdkFraud)
}

func TestPlugin_goSDKFilter(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go Wasm module (-short)")
	}
	r := newRuntime(t, Options{StorageDir: t.TempDir()})
	var logs logBuf
	p := load(t, r, Spec{
		Name: "fraud", Wasm: sdkPlugin(t), Kind: abi.KindFilter,
		Config: map[string]string{"limit": "2"},
		KV:     kvFor(t, "fraud", 1<<20), Logger: logs.logger(),
	})
	require.Equal(t, abi.KindFilter, p.Kind(), "gw_kind of a Go SDK filter")
	ctx := context.Background()
	data := []byte(`{"order":7,"customer":{"email":"a@example.com"}}`)
	for i, want := range []Verdict{Allow, Allow, Deny} {
		res, err := p.Filter(ctx, testMeta(), data)
		require.NoError(t, err, "call %d", i)
		require.Equal(t, want, res.Verdict, "call %d", i)
		if want == Deny {
			require.Equal(t, "velocity: 3 orders a minute from a@example.com", res.Reason)
		}
	}
	res, err := p.Filter(ctx, testMeta(), []byte(`{"customer":{}}`))
	require.NoError(t, err)
	require.Equal(t, Flag, res.Verdict)
	require.Equal(t, "no customer.email", res.Reason)
	require.Equal(t, int64(3), p.Metrics()["checked"])
	require.Contains(t, logs.String(), "denied a@example.com")

	// A Go guest is refused with too little memory to start.
	_, err = r.Load(ctx, Spec{Name: "tiny", Wasm: sdkPlugin(t), Limits: Limits{MemoryPages: 8}})
	require.Error(t, err)
}

// BenchmarkPlugin_FilterGoSDK is a Go SDK filter that reads one field with
// e.Get and does one kv_incr (Badger in memory). Target: < 50 µs/op.
func BenchmarkPlugin_FilterGoSDK(b *testing.B) {
	r := newRuntime(b, Options{})
	p := load(b, r, Spec{Name: "fraud", Wasm: sdkPlugin(b), Config: map[string]string{"limit": "1000000000"}, KV: kvFor(b, "fraud", 0)})
	ctx := context.Background()
	meta := testMeta()
	data := []byte(`{"order":7,"amount":4200,"customer":{"id":"cus_9","email":"a@example.com","country":"DE"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Filter(ctx, meta, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRuntime_LoadGoSDKFromCache is a cold load of a Go plugin by a
// fresh Runtime whose compilation cache directory is already filled: the
// gateway's restart. Target: < 100 ms.
func BenchmarkRuntime_LoadGoSDKFromCache(b *testing.B) {
	dir := b.TempDir()
	bin := sdkPlugin(b)
	ctx := context.Background()
	warm := newRuntime(b, Options{StorageDir: dir})
	load(b, warm, Spec{Name: "fraud", Wasm: bin})
	require.NoError(b, warm.Close(ctx))
	for b.Loop() {
		r, err := NewRuntime(ctx, Options{StorageDir: dir})
		require.NoError(b, err)
		p, err := r.Load(ctx, Spec{Name: "fraud", Wasm: bin})
		require.NoError(b, err)
		_ = p.Close(ctx)
		require.NoError(b, r.Close(ctx))
	}
}
