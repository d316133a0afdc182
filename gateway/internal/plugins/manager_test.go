package plugins

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// wat compiles gateway/testdata/plugins/<name>.wat with wabt's wat2wasm
// (.ci/run installs wabt).
func wat(tb testing.TB, name string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatalf("wat2wasm not found: install wabt (apt-get install -y wabt); .ci/run does: %v", err)
	}
	out := filepath.Join(tb.TempDir(), name+".wasm")
	src := filepath.Join("..", "..", "testdata", "plugins", name+".wat")
	if msg, err := exec.Command(bin, src, "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	require.NoError(tb, err)
	return b
}

func newManager(tb testing.TB, st *store.Store) *Manager {
	tb.Helper()
	m, err := NewManager(context.Background(), Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	tb.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func newStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, err := store.Open(store.Options{Path: tb.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// testLimits are the limits of the plugins these tests call: the most
// limits.timeout allows, because the 50 ms default (250 ms for observers)
// fails a call that a busy machine stalls, and no test here is about
// deadlines.
var testLimits = LimitSettings{Timeout: config.MaxPluginTimeout.String()}

func testEvent() *event.Event {
	return &event.Event{ID: "evt_1", Type: "order.created", Time: time.Now(), Data: json.RawMessage(`{"n":1}`)}
}

// TestManager_Put_swap checks that a pipeline read before a swap still
// works after it: its retired plugin is closed once idle, and the call
// goes to the version loaded now instead of failing.
func TestManager_Put_swap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newStore(t))
	s := Settings{Name: "gate", Kind: "filter", OnError: "deny", Limits: testLimits}
	_, err := m.Put(ctx, s, wat(t, "allow"))
	require.NoError(t, err)
	before := m.Pipeline()
	res := before.Run(ctx, testEvent())
	require.Equal(t, pipeline.OutcomeAllow, res.Verdicts[0].Outcome)

	s.Config = map[string]string{"note": "v2"}
	info, err := m.Put(ctx, s, wat(t, "note"))
	require.NoError(t, err)
	require.Equal(t, "filter", info.Kind)
	for _, pl := range []*pipeline.Pipeline{before, m.Pipeline()} {
		res = pl.Run(ctx, testEvent())
		require.Equal(t, 1, len(res.Verdicts))
		require.Equal(t, "", res.Verdicts[0].Error)
		require.Equal(t, pipeline.OutcomeFlag, res.Verdicts[0].Outcome)
		require.Equal(t, "v2", res.Verdicts[0].Reason)
	}
}

// TestManager_Put_loadFailure checks that a module that fails to load
// leaves the loaded version in place, and that settings are validated.
func TestManager_Put_loadFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newStore(t))
	good, err := m.Put(ctx, Settings{Name: "gate", Kind: "filter", Limits: testLimits}, wat(t, "allow"))
	require.NoError(t, err)
	for _, bad := range [][]byte{[]byte("not wasm"), wat(t, "nohandler"), wat(t, "passthrough")} {
		_, err = m.Put(ctx, Settings{Name: "gate", Kind: "filter"}, bad)
		require.ErrorIs(t, err, ErrLoad)
	}
	_, err = m.Put(ctx, Settings{Name: "gate", Stage: "later"}, wat(t, "allow"))
	require.ErrorIs(t, err, ErrInvalid)
	// The same rules as the config file's plugins section.
	_, err = m.Put(ctx, Settings{Name: "gate", Kind: "transform", OnError: "deny"}, wat(t, "allow"))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), `on_error: "deny" applies to filters; this plugin is a transform`)
	_, err = m.Put(ctx, Settings{Name: "gate", Kind: "observer", Stage: "ingest"}, wat(t, "allow"))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "stage: ingest applies to filters only")
	_, err = m.Put(ctx, Settings{Name: "gate", Limits: LimitSettings{Timeout: "11s"}}, wat(t, "allow"))
	require.ErrorIs(t, err, ErrInvalid)
	require.Contains(t, err.Error(), "limits.timeout: must be at most 10s")
	_, err = m.Put(ctx, Settings{Name: "gate", SHA256: good.SHA256[:62] + "00"}, wat(t, "allow"))
	require.ErrorIs(t, err, ErrInvalid)
	got, ok := m.Get("gate")
	require.True(t, ok, "gate is gone")
	require.Equal(t, good.SHA256, got.SHA256)
	res := m.Pipeline().Run(ctx, testEvent())
	require.Equal(t, pipeline.OutcomeAllow, res.Verdicts[0].Outcome)
}

// TestManager_persistence checks that uploads and deletes survive a
// restart, and that a shared module blob outlives one of its two names.
//
// Not parallel: Badger's directory lock is an flock, which a child process
// forked by a parallel test (wat2wasm) holds until it execs, so a reopen
// could fail spuriously.
func TestManager_persistence(t *testing.T) {
	ctx := context.Background()
	allow := wat(t, "allow")
	dir := t.TempDir()
	open := func() *store.Store {
		st, err := store.Open(store.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		return st
	}
	st := open()
	m, err := NewManager(ctx, Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	for _, name := range []string{"b", "a", "c"} {
		_, err = m.Put(ctx, Settings{Name: name, Kind: "filter"}, allow)
		require.NoError(t, err)
	}
	require.NoError(t, m.Delete(ctx, "c"))
	require.ErrorIs(t, m.Delete(ctx, "c"), ErrNotFound)
	m.Close(ctx)
	require.NoError(t, st.Close())

	st = open()
	defer func() { _ = st.Close() }()
	m, err = NewManager(ctx, Options{Store: st, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer m.Close(ctx)
	var names []string
	for _, p := range m.List() {
		names = append(names, p.Name+":"+p.ManagedBy)
	}
	require.Equal(t, "a:api b:api", strings.Join(names, " "))
	require.NoError(t, m.Delete(ctx, "a"))
	_, ok := m.Get("b")
	require.True(t, ok, "b is gone")
}

// TestManager_Invoke checks a dry run: verdict, reason and the logs of
// that call.
func TestManager_Invoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newStore(t))
	_, err := m.Put(ctx, Settings{Name: "note", Config: map[string]string{"note": "hm"}, Limits: testLimits}, wat(t, "note"))
	require.NoError(t, err)
	inv, err := m.Invoke(ctx, "note", *testEvent(), "")
	require.NoError(t, err)
	require.Equal(t, "flag", inv.Verdict)
	require.Equal(t, "hm", inv.Reason)
	require.Equal(t, 1, len(inv.Logs))
	require.Equal(t, "note filter ran", inv.Logs[0].Message)
	_, err = m.Invoke(ctx, "nope", *testEvent(), "")
	require.ErrorIs(t, err, ErrNotFound)
}

// TestManager_observers checks that observers come, change and go at
// runtime behind the one bus subscription.
func TestManager_observers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newStore(t))
	sub := m.Subscription().Subscriber
	seen := func() int64 {
		p, ok := m.Get("counter")
		if !ok {
			return -1
		}
		return p.Metrics["seen"]
	}
	evs := func(types ...string) []event.Event {
		out := make([]event.Event, len(types))
		for i, typ := range types {
			out[i] = event.Event{ID: "evt_" + typ, Type: typ, Time: time.Now(), Data: json.RawMessage(`{}`)}
		}
		return out
	}
	require.NoError(t, sub.Handle(ctx, evs("a.x"))) // no observer yet: nothing to do
	require.True(t, !m.Observes("gateway.delivery.succeeded"), "no observer, yet Observes says yes")

	counter := wat(t, "counter")
	_, err := m.Put(ctx, Settings{Name: "counter", Kind: "observer", Limits: testLimits}, counter)
	require.NoError(t, err)
	require.True(t, m.Observes("gateway.delivery.succeeded"), "an observer of every type")
	require.NoError(t, sub.Handle(ctx, evs("a.x", "a.y", "b.z")))
	require.Eventually(t, "the observer to see 3 events", func() bool { return seen() == 3 })

	_, err = m.Put(ctx, Settings{Name: "counter", Kind: "observer", EventTypes: []string{"b.>"}, Limits: testLimits}, counter)
	require.NoError(t, err)
	require.NoError(t, sub.Handle(ctx, evs("a.x", "b.y", "b.z")))
	require.Eventually(t, "the new version to see the 2 b events", func() bool { return seen() == 2 })
	require.True(t, m.Observes("b.y") && !m.Observes("gateway.delivery.succeeded"), "Observes follows event_types")

	require.NoError(t, m.Delete(ctx, "counter"))
	require.NoError(t, sub.Handle(ctx, evs("b.x")))
	m.obs.mu.Lock()
	n := len(m.obs.workers)
	m.obs.mu.Unlock()
	require.Equal(t, 0, n)
}
