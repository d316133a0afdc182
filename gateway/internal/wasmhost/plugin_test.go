package wasmhost

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

func TestPlugin_Filter_allow(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "allow", Wasm: wat(t, "allow")})
	require.Equal(t, abi.KindFilter, p.Kind())
	res, err := p.Filter(context.Background(), testMeta(), []byte(`{"a":1}`))
	require.NoError(t, err)
	require.Equal(t, Allow, res.Verdict)
	require.Equal(t, "", res.Reason)
}

func TestPlugin_Filter_denyWithReason(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "deny", Wasm: wat(t, "deny")})
	res, err := p.Filter(context.Background(), testMeta(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, Deny, res.Verdict)
	require.Equal(t, "blocked by test", res.Reason)

	// The reason of one call does not leak into the next.
	v := load(t, r, Spec{Name: "verdict", Wasm: wat(t, "verdict")})
	for _, tc := range []struct {
		data string
		want Verdict
	}{{"0", Allow}, {"1", Flag}, {"2", Deny}} {
		res, err := v.Filter(context.Background(), testMeta(), []byte(tc.data))
		require.NoError(t, err)
		require.Equal(t, tc.want, res.Verdict, "data %q", tc.data)
	}
}

func TestPlugin_Transform(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "tr", Wasm: wat(t, "transform")})
	require.Equal(t, abi.KindTransform, p.Kind())
	ctx := context.Background()

	meta := testMeta()
	meta.WebhookID = "wh_1"
	meta.Source = "a \"quoted\" <source>\n\xff"
	res, err := p.Transform(ctx, meta, []byte(`{"x":1}`))
	require.NoError(t, err)
	require.Equal(t, Replaced, res.Action)
	// The output is the meta document the host wrote: it must decode to
	// the meta we passed, and match encoding/json byte for byte.
	var got abi.Meta
	require.NoError(t, json.Unmarshal(res.Output, &got))
	want, err := json.Marshal(meta)
	require.NoError(t, err)
	require.Equal(t, string(want), string(res.Output))

	res, err = p.Transform(ctx, testMeta(), []byte("keep"))
	require.NoError(t, err)
	require.Equal(t, Unchanged, res.Action)
	require.True(t, res.Output == nil, "no output when unchanged")
	res, err = p.Transform(ctx, testMeta(), []byte("drop"))
	require.NoError(t, err)
	require.Equal(t, Drop, res.Action)
}

func TestPlugin_Observe(t *testing.T) {
	r := newRuntime(t, Options{})
	var logs logBuf
	kv := kvFor(t, "obs", 0)
	p := load(t, r, Spec{Name: "obs", Wasm: wat(t, "observer"), KV: kv, Logger: logs.logger()})
	require.Equal(t, abi.KindObserver, p.Kind())
	ctx := context.Background()
	for range 3 {
		require.NoError(t, p.Observe(ctx, testMeta(), []byte(`{}`)))
	}
	v, err := kv.Get(ctx, []byte("count"))
	require.NoError(t, err)
	require.Equal(t, int64(3), int64(binary.LittleEndian.Uint64(v)))
	require.Equal(t, int64(3), p.Metrics()["seen"])
	out := logs.String()
	require.Contains(t, out, `msg="observed an event"`)
	require.Contains(t, out, `plugin=obs`)
	require.Contains(t, out, `msg="stdout line" plugin=obs stream=stdout`)

	// Calling the wrong method is refused without touching the guest.
	_, err = p.Filter(ctx, testMeta(), nil)
	require.ErrorIs(t, err, ErrWrongKind)
}

func TestPlugin_configGet(t *testing.T) {
	r := newRuntime(t, Options{})
	for _, tc := range []struct{ name, value string }{
		{"short", "abc"},
		{"long", strings.Repeat("long value ", 20)}, // retried with a bigger buffer
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := load(t, r, Spec{Name: "cfg-" + tc.name, Wasm: wat(t, "config"), Config: map[string]string{"note": tc.value}})
			res, err := p.Filter(context.Background(), testMeta(), nil)
			require.NoError(t, err)
			require.Equal(t, Flag, res.Verdict)
			require.Equal(t, tc.value, res.Reason)
		})
	}
	p := load(t, r, Spec{Name: "cfg-missing", Wasm: wat(t, "config")})
	_, err := p.Filter(context.Background(), testMeta(), nil)
	requireErrContains(t, err, ErrPluginError, "gw_filter returned -1")
}

// TestPlugin_everyHostFunction runs the conformance guest, which checks
// every gw_v1 function's statuses from the inside.
func TestPlugin_everyHostFunction(t *testing.T) {
	r := newRuntime(t, Options{})
	var logs logBuf
	kv := kvFor(t, "all", 0)
	p := load(t, r, Spec{Name: "all", Wasm: wat(t, "everything"), Config: map[string]string{"k": "v"}, KV: kv, Logger: logs.logger()})
	res, err := p.Filter(context.Background(), testMeta(), []byte(`{}`))
	require.NoError(t, err)
	require.Equal(t, Flag, res.Verdict)
	require.Equal(t, "all good", res.Reason)
	require.Equal(t, int64(2), p.Metrics()["m"])
	require.Contains(t, logs.String(), "hello from everything")
	v, err := kv.Get(context.Background(), []byte("n"))
	require.NoError(t, err)
	require.Equal(t, int64(10), int64(binary.LittleEndian.Uint64(v)))
}

func TestPlugin_kvUnavailable(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "nokv", Wasm: wat(t, "observer")})
	err := p.Observe(context.Background(), testMeta(), nil)
	requireErrContains(t, err, ErrPluginError, "returned -5")
}

func TestPlugin_kvQuota(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "q", Wasm: wat(t, "observer"), KV: kvFor(t, "q", 4)})
	err := p.Observe(context.Background(), testMeta(), nil)
	requireErrContains(t, err, ErrPluginError, "returned -3")
}

func TestPlugin_gwKind(t *testing.T) {
	r := newRuntime(t, Options{})
	p := load(t, r, Spec{Name: "multi", Wasm: wat(t, "multi")})
	require.Equal(t, abi.KindTransform, p.Kind())
	res, err := p.Transform(context.Background(), testMeta(), nil)
	require.NoError(t, err)
	require.Equal(t, Drop, res.Action)
}

func TestAppendMeta_matchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "ctl\x00\x1f\t\r\n", "<html>&", "ünïcødé", "bad\xffutf8", "sep\u2028\u2029"} {
		m := abi.Meta{ID: s, Type: s, Source: s, Time: s, WebhookID: s}
		want, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendMeta(nil, m)), "string %q", s)
	}
}

func FuzzAppendMeta(f *testing.F) {
	f.Add("evt_1", "order.created", "\xff<\u2028")
	f.Fuzz(func(t *testing.T, id, typ, src string) {
		m := abi.Meta{ID: id, Type: typ, Source: src, Time: "t"}
		want, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendMeta(nil, m)))
	})
}

// TestLoad_defaultDeadline: the deadline defaults by kind, also when the
// kind is inferred from the exports or from gw_kind.
func TestLoad_defaultDeadline(t *testing.T) {
	r := newRuntime(t, Options{})
	for _, tc := range []struct {
		fixture string
		want    time.Duration
	}{{"allow", DefaultFilterTimeout}, {"observer", DefaultObserverTimeout}, {"multi", DefaultFilterTimeout}} {
		p, err := r.Load(context.Background(), Spec{Name: tc.fixture, Wasm: wat(t, tc.fixture)})
		require.NoError(t, err)
		require.Equal(t, tc.want, p.Limits().CallTimeout, "%s", tc.fixture)
		require.True(t, p.Limits().PoolSize >= 1, "pool size %d", p.Limits().PoolSize)
		require.Equal(t, uint32(DefaultMemoryPages), p.Limits().MemoryPages)
		require.NoError(t, p.Close(context.Background()))
	}
}
