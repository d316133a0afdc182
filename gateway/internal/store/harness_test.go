package store

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// requireSameEvent compares the stored fields of two events.
func requireSameEvent(tb testing.TB, want, got event.Event) {
	tb.Helper()
	if want.Seq != got.Seq || want.ID != got.ID || want.Type != got.Type || want.Source != got.Source ||
		!want.Time.Equal(got.Time) || !bytes.Equal(want.Data, got.Data) || !bytes.Equal(want.CloudEvent, got.CloudEvent) {
		tb.Fatalf("events differ\nwant %s\ngot  %s", describeEvent(want), describeEvent(got))
	}
}

func describeEvent(ev event.Event) string {
	return fmt.Sprintf("{seq %s id %q type %q source %q time %s data %q cloudevent %q}", ev.Seq, ev.ID, ev.Type, ev.Source, ev.Time.Format(time.RFC3339Nano), ev.Data, ev.CloudEvent)
}

// clock is a settable Options.Now.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	return c
}

func (c *clock) Now() time.Time  { return *c.t.Load() }
func (c *clock) Set(t time.Time) { c.t.Store(&t) }

// openAt opens a store in dir, closing it when the test ends (Close is
// idempotent, so tests may close it earlier).
func openAt(tb testing.TB, dir string, opts Options) *Store {
	tb.Helper()
	opts.Path = dir
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// openTemp opens a store on a fresh temp dir.
func openTemp(tb testing.TB, opts Options) (*Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	return openAt(tb, dir, opts), dir
}

func appendOK(tb testing.TB, s *Store, drafts ...Draft) []Appended {
	tb.Helper()
	res, err := s.Append(context.Background(), drafts)
	require.NoError(tb, err)
	require.Equal(tb, len(drafts), len(res))
	return res
}

func draft(typ, data string) Draft {
	return Draft{Type: typ, Source: "test", Data: []byte(data)}
}

// readAll reads the whole log in pages of page events.
func readAll(tb testing.TB, s *Store, page int) []event.Event {
	tb.Helper()
	var out []event.Event
	var after event.Seq
	for {
		evs, err := s.ReadAfter(context.Background(), after, page)
		require.NoError(tb, err)
		out = append(out, evs...)
		if len(evs) < page {
			return out
		}
		after = evs[len(evs)-1].Seq
	}
}

// requireIncreasing checks that seqs strictly increase along evs.
func requireIncreasing(tb testing.TB, evs []event.Event) {
	tb.Helper()
	for i := 1; i < len(evs); i++ {
		if string(evs[i-1].Seq[:]) >= string(evs[i].Seq[:]) {
			tb.Fatalf("seq %d (%s) is not above seq %d (%s)", i, evs[i].Seq, i-1, evs[i-1].Seq)
		}
	}
}

// gate holds the committer inside OnCommit, so that requests queue up and
// the next group commit takes all of them. Use its OnCommit in Options,
// call hold before a commit and release after queueing.
type gate struct {
	mu      sync.Mutex
	held    chan struct{} // closed by release
	parked  chan struct{} // receives when the committer parks
	commits int
}

func newGate() *gate { return &gate{parked: make(chan struct{}, 1)} }

// OnCommit counts commits and parks while the gate is held.
func (g *gate) OnCommit() {
	g.mu.Lock()
	g.commits++
	held := g.held
	g.mu.Unlock()
	if held != nil {
		g.parked <- struct{}{}
		<-held
	}
}

// hold makes the next commit park the committer.
func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.held)
	g.held = nil
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.commits
}

// groupCommit runs appends as concurrent requests that the store commits as
// one group: it parks the committer with a warm-up append, queues every
// request, then lets the committer go. It returns each request's outcome.
func groupCommit(tb testing.TB, s *Store, g *gate, reqs ...[]Draft) ([][]Appended, []error) {
	tb.Helper()
	g.hold()
	appendOK(tb, s, draft("warmup", `{}`))
	require.Receive(tb, g.parked, "the committer to park")
	res := make([][]Appended, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { res[i], errs[i] = s.Append(context.Background(), r) })
	}
	require.Eventually(tb, "every request to be queued", func() bool { return len(s.queue) == len(reqs) })
	g.release()
	wg.Wait()
	return res, errs
}
