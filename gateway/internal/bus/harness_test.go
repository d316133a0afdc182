package bus_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// notifier forwards the store's OnCommit to a bus created after the store,
// as the gateway does.
type notifier struct{ b atomic.Pointer[bus.Bus] }

func (n *notifier) OnCommit() {
	if b := n.b.Load(); b != nil {
		b.Notify()
	}
}

// env is a store on a directory with a bus on top.
type env struct {
	dir string
	st  *store.Store
	bus *bus.Bus
}

// openEnv opens the store in dir and a bus on it that its commits notify.
// Both are closed when the test ends; Close on either is safe to repeat.
func openEnv(tb testing.TB, dir string) *env {
	tb.Helper()
	n := &notifier{}
	logger := slog.New(slog.DiscardHandler)
	st, err := store.Open(store.Options{Path: dir, Logger: logger, OnCommit: n.OnCommit})
	require.NoError(tb, err)
	b := bus.New(st, logger)
	n.b.Store(b)
	tb.Cleanup(func() {
		b.Close()
		_ = st.Close()
	})
	return &env{dir: dir, st: st, bus: b}
}

func (e *env) close(tb testing.TB) {
	tb.Helper()
	e.bus.Close()
	require.NoError(tb, e.st.Close())
}

func (e *env) subscribe(tb testing.TB, name string, durable bool, batch int, s bus.Subscriber, patterns ...string) {
	tb.Helper()
	ps, _, err := event.ParsePatterns(patterns)
	require.NoError(tb, err)
	require.NoError(tb, e.bus.Subscribe(bus.Subscription{Name: name, Patterns: ps, Durable: durable, BatchSize: batch, Subscriber: s}))
}

func (e *env) start(tb testing.TB) {
	tb.Helper()
	require.NoError(tb, e.bus.Start(context.Background()))
}

// publish appends one event per type, each in its own request, and returns
// them in commit order.
func (e *env) publish(tb testing.TB, types ...string) []event.Event {
	tb.Helper()
	out := make([]event.Event, 0, len(types))
	for i, typ := range types {
		res, err := e.st.Append(context.Background(), []store.Draft{{Type: typ, Data: fmt.Appendf(nil, `{"i":%d}`, i)}})
		require.NoError(tb, err)
		out = append(out, res[0].Event)
	}
	return out
}

// readLog returns the whole log.
func (e *env) readLog(tb testing.TB) []event.Event {
	tb.Helper()
	evs, err := e.st.ReadAfter(context.Background(), event.Seq{}, 1_000_000)
	require.NoError(tb, err)
	return evs
}

func (e *env) cursor(tb testing.TB, name string) event.Seq {
	tb.Helper()
	seq, err := e.st.Cursor(context.Background(), name)
	require.NoError(tb, err)
	return seq
}

// recorder is a Subscriber that keeps every batch it is given.
type recorder struct {
	mu      sync.Mutex
	batches [][]event.Event
	changed chan struct{} // closed and replaced on every batch
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Handle(_ context.Context, evs []event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, evs)
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

func (r *recorder) events() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Event
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

// waitFor waits until the recorder holds at least n events and returns
// them all.
func (r *recorder) waitFor(tb testing.TB, n int) []event.Event {
	tb.Helper()
	deadline := time.After(require.WaitLimit)
	for {
		r.mu.Lock()
		got, changed := 0, r.changed
		for _, b := range r.batches {
			got += len(b)
		}
		r.mu.Unlock()
		if got >= n {
			return r.events()
		}
		select {
		case <-changed:
		case <-deadline:
			tb.Fatalf("gave up waiting for %d events; have %d", n, got)
		}
	}
}

// requireEvents checks that got is exactly want: same events, same order.
func requireEvents(tb testing.TB, want, got []event.Event) {
	tb.Helper()
	if len(want) != len(got) {
		tb.Fatalf("want %d events %v, got %d %v", len(want), ids(want), len(got), ids(got))
	}
	for i := range want {
		if want[i].Seq != got[i].Seq || want[i].ID != got[i].ID || want[i].Type != got[i].Type || string(want[i].Data) != string(got[i].Data) {
			tb.Fatalf("event %d: want %s %s, got %s %s", i, want[i].ID, want[i].Type, got[i].ID, got[i].Type)
		}
	}
}

func ids(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// matching returns the events of evs whose type matches one of patterns.
func matching(tb testing.TB, evs []event.Event, patterns ...string) []event.Event {
	tb.Helper()
	ps, _, err := event.ParsePatterns(patterns)
	require.NoError(tb, err)
	var out []event.Event
	for _, ev := range evs {
		if ps.Match(ev.Type) {
			out = append(out, ev)
		}
	}
	return out
}

// countingLog is the store as the bus's Log, reporting the size of every
// ReadAfter result, so a test can tell when a subscription has gone idle.
type countingLog struct {
	*store.Store
	reads chan int
}

func (l *countingLog) ReadAfter(ctx context.Context, after event.Seq, max int) ([]event.Event, error) {
	evs, err := l.Store.ReadAfter(ctx, after, max)
	if err == nil {
		l.reads <- len(evs)
	}
	return evs, err
}
