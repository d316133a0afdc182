package plugintest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/sdk/abi"
)

// DefaultCallTimeout is the call deadline of a plugin loaded without
// Options.CallTimeout. It is far longer than the server's (50 ms for
// filters and transforms, 250 ms for observers) because a test checks what
// a plugin does, not how fast: on a busy machine a call can be stalled past
// 50 ms, and that must not fail a test. A plugin stuck in a loop still
// fails, with ErrTimeout, after this long. Set CallTimeout to test a
// deadline.
const DefaultCallTimeout = 30 * time.Second

// Options configure Load. The zero value loads the plugin under the name
// "plugin", with its kind inferred from its exports, no config, the
// server's default limits and DefaultCallTimeout.
type Options struct {
	// Name is the plugin's name (default "plugin").
	Name string
	// Kind is the declared kind; empty infers it from the exports.
	Kind abi.Kind
	// Config is the plugin's config: section.
	Config map[string]string
	// KVQuota limits the KV store to this many bytes (0: no limit).
	KVQuota int64
	// CallTimeout is the call deadline (default DefaultCallTimeout, not the
	// server's). A call that waits for a free instance (concurrent Runs)
	// waits as long.
	CallTimeout time.Duration
}

// Plugin is a plugin loaded under the real host, with its own runtime and
// Badger store. It is safe for concurrent use.
type Plugin struct {
	t  testing.TB
	p  *wasmhost.Plugin
	kv *store.PluginKV

	mu   sync.Mutex // guards logs
	logs []Log
}

// Load loads wasm under a new wasmhost.Runtime with a KV store on a fresh
// Badger in t.TempDir(), and closes everything when the test ends. A load
// error (not Wasm, wrong ABI, a missing export, a failing _initialize)
// fails the test; use LoadErr to test for one.
func Load(t testing.TB, wasm []byte, opts Options) *Plugin {
	t.Helper()
	p, err := LoadErr(t, wasm, opts)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return p
}

// LoadErr is Load returning the load error instead of failing the test.
func LoadErr(t testing.TB, wasm []byte, opts Options) (*Plugin, error) {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "plugin"
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "badger"), Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kv, err := st.PluginKV(opts.Name, opts.KVQuota)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("new runtime: %w", err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	pl := &Plugin{t: t, kv: kv}
	p, err := rt.Load(ctx, wasmhost.Spec{
		Name:   opts.Name,
		Wasm:   wasm,
		Kind:   opts.Kind,
		Config: opts.Config,
		Limits: wasmhost.Limits{CallTimeout: opts.CallTimeout, AcquireTimeout: opts.CallTimeout},
		KV:     kv,
		Logger: slog.New(&logHandler{p: pl}),
	})
	if err != nil {
		return nil, err
	}
	pl.p = p
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return pl, nil
}

// Kind returns the plugin's kind.
func (p *Plugin) Kind() abi.Kind { return p.p.Kind() }

// Result is what one Run produced.
type Result struct {
	// Kind is the plugin's kind.
	Kind abi.Kind
	// Code is the gw_* export's result as the host understood it: an
	// abi.Allow/Flag/Deny, abi.Unchanged/Replaced/Drop or abi.ObserveOK
	// code. It is meaningless when Err is set.
	Code int32
	// Err is the host's error, wrapped with the plugin's name and detail;
	// errors.Is finds ErrPluginError, ErrTimeout, ErrCrashed,
	// ErrPluginBroken or ErrBusy in it.
	Err error
	// Reason is a filter's deny or flag reason.
	Reason string
	// Output is a transform's new data (when Replaced).
	Output []byte
	// Logs are the lines the plugin logged during the call (gw_v1 log,
	// stdout and stderr).
	Logs []Log
}

// Allowed reports whether a filter allowed the event (flagged included).
func (r Result) Allowed() bool {
	return r.ok(abi.KindFilter) && (r.Code == abi.Allow || r.Code == abi.Flag)
}

// Flagged reports whether a filter flagged the event.
func (r Result) Flagged() bool { return r.ok(abi.KindFilter) && r.Code == abi.Flag }

// Denied reports whether a filter denied the event.
func (r Result) Denied() bool { return r.ok(abi.KindFilter) && r.Code == abi.Deny }

// Replaced reports whether a transform replaced the data (see Output).
func (r Result) Replaced() bool { return r.ok(abi.KindTransform) && r.Code == abi.Replaced }

// Unchanged reports whether a transform kept the data.
func (r Result) Unchanged() bool { return r.ok(abi.KindTransform) && r.Code == abi.Unchanged }

// Dropped reports whether a transform dropped the event.
func (r Result) Dropped() bool { return r.ok(abi.KindTransform) && r.Code == abi.Drop }

// Failed reports whether the call failed (see Err).
func (r Result) Failed() bool { return r.Err != nil }

func (r Result) ok(k abi.Kind) bool { return r.Err == nil && r.Kind == k }

// String describes the result, as "filter: deny (reason)".
func (r Result) String() string {
	var s string
	switch {
	case r.Err != nil:
		s = "error (" + r.Err.Error() + ")"
	case r.Kind == abi.KindFilter:
		s = wasmhost.Verdict(r.Code).String()
		if r.Reason != "" {
			s += " (" + r.Reason + ")"
		}
	case r.Kind == abi.KindTransform:
		s = wasmhost.Action(r.Code).String()
		if r.Code == abi.Replaced {
			s += " " + string(r.Output)
		}
	default:
		s = "ok"
	}
	return string(r.Kind) + ": " + s
}

// Run calls the plugin with ev, by its kind, as the gateway does.
func (p *Plugin) Run(ev Event) Result {
	return p.RunContext(context.Background(), ev)
}

// RunContext is Run with a context.
func (p *Plugin) RunContext(ctx context.Context, ev Event) Result {
	p.mu.Lock()
	from := len(p.logs)
	p.mu.Unlock()
	r := Result{Kind: p.p.Kind()}
	switch r.Kind {
	case abi.KindFilter:
		var fr wasmhost.FilterResult
		fr, r.Err = p.p.Filter(ctx, ev.meta(), ev.Data)
		r.Code, r.Reason = int32(fr.Verdict), fr.Reason
	case abi.KindTransform:
		var tr wasmhost.TransformResult
		tr, r.Err = p.p.Transform(ctx, ev.meta(), ev.Data)
		r.Code, r.Output = int32(tr.Action), tr.Output
	default:
		r.Err = p.p.Observe(ctx, ev.meta(), ev.Data)
		r.Code = abi.ObserveOK
	}
	p.mu.Lock()
	r.Logs = append([]Log(nil), p.logs[from:]...)
	p.mu.Unlock()
	return r
}

// Logs returns every line the plugin logged since Load.
func (p *Plugin) Logs() []Log {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Log(nil), p.logs...)
}

// KV returns the live value of key in the plugin's KV store.
func (p *Plugin) KV(key string) ([]byte, bool) {
	p.t.Helper()
	v, err := p.kv.Get(context.Background(), []byte(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		p.t.Fatalf("plugintest: kv get %q: %v", key, err)
	}
	return v, true
}

// KVInt returns the counter at key (made by sdk.KVIncr), and whether it
// exists. It fails the test if the value is not an 8-byte counter.
func (p *Plugin) KVInt(key string) (int64, bool) {
	p.t.Helper()
	v, ok := p.KV(key)
	if !ok {
		return 0, false
	}
	if len(v) != 8 {
		p.t.Fatalf("plugintest: kv %q is %d bytes, not a counter", key, len(v))
	}
	return int64(binary.LittleEndian.Uint64(v)), true
}

// SetKV stores a value in the plugin's KV store, to set up a test.
func (p *Plugin) SetKV(key string, val []byte, ttl time.Duration) {
	p.t.Helper()
	if err := p.kv.Set(context.Background(), []byte(key), val, ttl); err != nil {
		p.t.Fatalf("plugintest: kv set %q: %v", key, err)
	}
}

// Metrics returns the plugin's counters (sdk.MetricAdd).
func (p *Plugin) Metrics() map[string]int64 { return p.p.Metrics() }
