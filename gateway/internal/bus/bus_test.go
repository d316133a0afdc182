package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

var _ bus.Subscriber = bus.SubscriberFunc(nil)

func TestBus_Subscribe(t *testing.T) {
	e := openEnv(t, t.TempDir())
	r := newRecorder()
	tests := []struct {
		name    string
		sub     bus.Subscription
		wantErr bool
	}{
		{"valid", bus.Subscription{Name: "a", Subscriber: r}, false},
		{"duplicate name", bus.Subscription{Name: "a", Subscriber: r}, true},
		{"no name", bus.Subscription{Subscriber: r}, true},
		{"no subscriber", bus.Subscription{Name: "b"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.bus.Subscribe(tc.sub)
			require.Equal(t, tc.wantErr, err != nil)
		})
	}
	e.start(t)
	require.ErrorIs(t, e.bus.Subscribe(bus.Subscription{Name: "late", Subscriber: r}), bus.ErrStarted)
	require.ErrorIs(t, e.bus.Start(context.Background()), bus.ErrStarted)
}

// TestBus_patterns runs several durable subscriptions with different
// patterns on one log: each gets exactly its matching events, in commit
// order, in batches no larger than its batch size.
func TestBus_patterns(t *testing.T) {
	e := openEnv(t, t.TempDir())
	tests := []struct {
		name     string
		patterns []string
		batch    int
	}{
		{"everything", []string{">"}, 0},
		{"one segment", []string{"order.*"}, 3},
		{"one or more segments", []string{"order.>"}, 2},
		{"exact", []string{"user.signup"}, 1},
		{"several", []string{"user.*", "order.paid"}, 4},
		{"nothing matches", []string{"nope"}, 5},
	}
	recs := make([]*recorder, len(tests))
	for i, tc := range tests {
		recs[i] = newRecorder()
		e.subscribe(t, tc.name, true, tc.batch, recs[i], tc.patterns...)
	}
	early := e.publish(t, "order.created", "user.signup", "order.item.added")
	e.start(t)
	late := e.publish(t, "order.paid", "user.deleted", "order", "order.created", "billing.invoice.sent", "user.signup")
	all := append(early, late...)
	last := all[len(all)-1].Seq

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := matching(t, all, tc.patterns...)
			got := recs[i].waitFor(t, len(want))
			requireEvents(t, want, got)
			recs[i].mu.Lock()
			batches := slices.Clone(recs[i].batches)
			recs[i].mu.Unlock()
			max := tc.batch
			if max == 0 {
				max = 256
			}
			for _, b := range batches {
				require.True(t, len(b) > 0 && len(b) <= max, "batch of %d events, want 1 to %d", len(b), max)
			}
			// The cursor passes non-matching events too, up to the end.
			require.Eventually(t, "the cursor to reach the end of the log", func() bool { return e.cursor(t, tc.name) == last })
		})
	}
	require.True(t, e.bus.Dispatched(last), "every durable subscription has passed the last event")
}

// TestBus_Notify checks that a subscription sleeps until Notify: with the
// store's OnCommit not wired to the bus, each Notify costs exactly one read
// that finds the new event and one that finds nothing more. A bus that
// polled the log would read more often.
func TestBus_Notify(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	st, err := store.Open(store.Options{Path: t.TempDir(), Logger: logger})
	require.NoError(t, err)
	defer st.Close()
	log := &countingLog{Store: st, reads: make(chan int, 100)}
	b := bus.New(log, logger)
	defer b.Close()
	r := newRecorder()
	require.NoError(t, b.Subscribe(bus.Subscription{Name: "s", Patterns: event.Patterns{event.MustParsePattern(">")}, Durable: true, Subscriber: r}))
	require.NoError(t, b.Start(context.Background()))
	require.Equal(t, 0, require.Receive(t, log.reads, "the first read")) // idle

	const rounds = 5
	for i := range rounds {
		res, err := st.Append(context.Background(), []store.Draft{{Type: "t", Data: []byte(fmt.Sprint(i))}})
		require.NoError(t, err)
		b.Notify()
		require.Equal(t, 1, require.Receive(t, log.reads, "the read after Notify"))
		got := r.waitFor(t, i+1)
		require.Equal(t, res[0].Event.ID, got[i].ID)
		require.Equal(t, 0, require.Receive(t, log.reads, "the read that finds nothing more")) // idle again
	}
	b.Close()
	require.Equal(t, 0, len(log.reads))
}

// TestBus_retry: a subscriber that fails gets the same batch again, and the
// cursor stays where it was until the batch is accepted.
func TestBus_retry(t *testing.T) {
	e := openEnv(t, t.TempDir())
	var (
		mu    sync.Mutex
		calls [][]string
	)
	cursorsSeen := make(chan event.Seq, 10)
	fail := errors.New("endpoint down")
	e.subscribe(t, "flaky", true, 0, bus.SubscriberFunc(func(_ context.Context, evs []event.Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, ids(evs))
		if len(calls) <= 2 {
			seq, err := e.st.Cursor(context.Background(), "flaky")
			if err != nil {
				t.Error(err)
			}
			cursorsSeen <- seq
			return fail
		}
		return nil
	}), ">")
	evs := e.publish(t, "a", "b", "c")
	e.start(t)
	for range 2 {
		require.True(t, require.Receive(t, cursorsSeen, "a failing call").IsZero(), "the cursor moved although the subscriber failed")
		require.False(t, e.bus.Dispatched(evs[0].Seq), "a failing batch is not dispatched")
	}
	require.Eventually(t, "the batch to be accepted", func() bool { return e.bus.Dispatched(evs[2].Seq) })
	require.Equal(t, evs[2].Seq, e.cursor(t, "flaky"))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 3, len(calls))
	for _, c := range calls {
		require.Equal(t, fmt.Sprint(ids(evs)), fmt.Sprint(c))
	}
}

// TestBus_restart handles part of the log, closes bus and store, reopens
// the directory and checks that the new bus resumes right after the saved
// cursor: together the two runs see every event, and none twice.
func TestBus_restart(t *testing.T) {
	dir := t.TempDir()
	e := openEnv(t, dir)
	const batch = 10
	var first []event.Event
	stuck := make(chan struct{})
	batches := 0
	e.subscribe(t, "durable", true, batch, bus.SubscriberFunc(func(ctx context.Context, evs []event.Event) error {
		batches++
		if batches > 3 {
			close(stuck)
			<-ctx.Done() // still busy when the bus closes
			return ctx.Err()
		}
		first = append(first, evs...)
		return nil
	}), ">")
	types := make([]string, 45)
	for i := range types {
		types[i] = []string{"a.x", "b.y", "a.z"}[i%3]
	}
	all := e.publish(t, types...)
	e.start(t)
	require.Receive(t, stuck, "the fourth batch")
	e.close(t)
	requireEvents(t, all[:3*batch], first)

	e = openEnv(t, dir)
	require.Equal(t, all[3*batch-1].Seq, e.cursor(t, "durable"))
	r := newRecorder()
	e.subscribe(t, "durable", true, batch, r, ">")
	e.start(t)
	more := e.publish(t, "a.x", "c")
	want := append(slices.Clone(all[3*batch:]), more...)
	requireEvents(t, want, r.waitFor(t, len(want)))
	requireEvents(t, append(slices.Clone(all), more...), append(first, r.events()...))
}

// TestBus_nonDurable: a non-durable subscription starts at the end of the
// log, every time, and saves no cursor; a durable one without a cursor
// starts at the beginning.
func TestBus_nonDurable(t *testing.T) {
	dir := t.TempDir()
	e := openEnv(t, dir)
	old := e.publish(t, "a", "b")
	live, durable := newRecorder(), newRecorder()
	e.subscribe(t, "live", false, 0, live, ">")
	e.subscribe(t, "durable", true, 0, durable, ">")
	e.start(t)
	fresh := e.publish(t, "c", "d")
	requireEvents(t, append(slices.Clone(old), fresh...), durable.waitFor(t, 4))
	requireEvents(t, fresh, live.waitFor(t, 2))
	e.close(t)

	e = openEnv(t, dir)
	require.True(t, e.cursor(t, "live").IsZero(), "a non-durable subscription saved a cursor")
	live = newRecorder()
	e.subscribe(t, "live", false, 0, live, ">")
	e.start(t)
	later := e.publish(t, "e")
	requireEvents(t, later, live.waitFor(t, 1))
}

// TestBus_slowSubscriber: a subscriber stuck in Handle holds back only its
// own subscription. Appends keep being acknowledged, other subscriptions
// keep up, and Close still returns because Handle's ctx is cancelled.
func TestBus_slowSubscriber(t *testing.T) {
	e := openEnv(t, t.TempDir())
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	slow := newRecorder()
	e.subscribe(t, "slow", true, 0, bus.SubscriberFunc(func(ctx context.Context, evs []event.Event) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return slow.Handle(ctx, evs)
	}), ">")
	fast := newRecorder()
	e.subscribe(t, "fast", true, 0, fast, ">")
	e.start(t)

	first := e.publish(t, "t")
	require.Receive(t, entered, "the slow subscriber to block")
	// The slow subscriber is now parked in Handle. Ingest goes on.
	rest := e.publish(t, slices.Repeat([]string{"t"}, 49)...)
	all := append(first, rest...)
	requireEvents(t, all, fast.waitFor(t, len(all)))
	require.Eventually(t, "the fast cursor to reach the end", func() bool { return e.cursor(t, "fast") == all[49].Seq })
	require.False(t, e.bus.Dispatched(all[0].Seq), "an event the slow subscriber holds is not dispatched")
	lag, err := e.bus.Lag(context.Background(), 1000)
	require.NoError(t, err)
	require.Equal(t, 50, lag["slow"])
	require.Equal(t, 0, lag["fast"])

	close(release)
	requireEvents(t, all, slow.waitFor(t, len(all)))
	require.Eventually(t, "every event to be dispatched", func() bool { return e.bus.Dispatched(all[49].Seq) })
}

// TestBus_Close_whileBlocked closes the bus while Handle runs. Close
// cancels Handle's ctx and waits for it. If Handle then gives up, its batch
// stays unhandled; if it finishes anyway (returns nil), the cursor moves,
// so that a restart does not hand the batch out again.
func TestBus_Close_whileBlocked(t *testing.T) {
	tests := []struct {
		name       string
		result     func(ctx context.Context) error
		wantCursor bool
	}{
		{"gives up", func(ctx context.Context) error { return ctx.Err() }, false},
		{"finishes anyway", func(context.Context) error { return nil }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			e := openEnv(t, dir)
			entered := make(chan struct{})
			e.subscribe(t, "stuck", true, 0, bus.SubscriberFunc(func(ctx context.Context, _ []event.Event) error {
				close(entered)
				<-ctx.Done()
				return tc.result(ctx)
			}), ">")
			evs := e.publish(t, "t", "u")
			e.start(t)
			require.Receive(t, entered, "Handle")
			e.bus.Close() // returns: Handle's ctx is cancelled
			e.bus.Close()
			require.NoError(t, e.st.Close())

			e = openEnv(t, dir)
			want := event.Seq{}
			if tc.wantCursor {
				want = evs[1].Seq
			}
			require.Equal(t, want, e.cursor(t, "stuck"))
		})
	}
}

// TestBus_Dispatched: an event is dispatched once every durable
// subscription's cursor has reached it; non-durable subscriptions do not
// count.
func TestBus_Dispatched(t *testing.T) {
	e := openEnv(t, t.TempDir())
	evs := e.publish(t, "a", "b", "c")
	after := e.publish(t, "d")[0]

	// Before Start a durable subscription has no cursor: nothing is.
	at := make(chan event.Event)
	e.subscribe(t, "durable", true, 1, bus.SubscriberFunc(func(ctx context.Context, b []event.Event) error {
		select {
		case at <- b[0]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b[0].Type == "c" {
			<-ctx.Done() // hold c until Close
			return ctx.Err()
		}
		return nil
	}), ">")
	e.subscribe(t, "live-stuck", false, 1, bus.SubscriberFunc(func(ctx context.Context, _ []event.Event) error {
		<-ctx.Done()
		return ctx.Err()
	}), ">")
	require.False(t, e.bus.Dispatched(evs[0].Seq), "nothing is dispatched before Start")
	e.start(t)
	for i := range 3 {
		require.Equal(t, evs[i].ID, require.Receive(t, at, "a batch").ID)
	}
	// Handle(c) has begun, so the cursor stands at b.
	tests := []struct {
		name string
		seq  event.Seq
		want bool
	}{
		{"zero", event.Seq{}, true},
		{"handled", evs[0].Seq, true},
		{"at the cursor", evs[1].Seq, true},
		{"being handled", evs[2].Seq, false},
		{"not yet read", after.Seq, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, e.bus.Dispatched(tc.seq))
		})
	}

	t.Run("no durable subscriptions", func(t *testing.T) {
		b := bus.New(e.st, slog.New(slog.DiscardHandler))
		require.NoError(t, b.Subscribe(bus.Subscription{Name: "live", Subscriber: newRecorder()}))
		require.True(t, b.Dispatched(after.Seq), "with no durable subscription every event is dispatched")
	})
}

// TestBus_hammer appends from several goroutines while two subscriptions
// consume in small batches; each must see every matching event exactly
// once, in commit order.
func TestBus_hammer(t *testing.T) {
	t.Parallel()
	e := openEnv(t, t.TempDir())
	type seen struct {
		mu   sync.Mutex
		evs  []event.Event
		dups atomic.Int64
		ids  map[string]bool
	}
	subs := []struct {
		name     string
		patterns []string
		seen     *seen
	}{
		{"all", []string{">"}, &seen{ids: map[string]bool{}}},
		{"a", []string{"a.>"}, &seen{ids: map[string]bool{}}},
	}
	for _, s := range subs {
		e.subscribe(t, s.name, true, 7, bus.SubscriberFunc(func(_ context.Context, evs []event.Event) error {
			s.seen.mu.Lock()
			defer s.seen.mu.Unlock()
			for _, ev := range evs {
				if s.seen.ids[ev.ID] {
					s.seen.dups.Add(1)
				}
				s.seen.ids[ev.ID] = true
			}
			s.seen.evs = append(s.seen.evs, evs...)
			return nil
		}), s.patterns...)
	}
	e.start(t)

	const writers, each = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				typ := []string{"a.x", "b.x", "a.y.z"}[(w+i)%3]
				if _, err := e.st.Append(context.Background(), []store.Draft{{Type: typ, Data: []byte(`{}`)}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	log := e.readLog(t)
	require.Equal(t, writers*each, len(log))
	last := log[len(log)-1].Seq
	require.Eventually(t, "both subscriptions to catch up", func() bool { return e.bus.Dispatched(last) })
	for _, s := range subs {
		s.seen.mu.Lock()
		require.Equal(t, int64(0), s.seen.dups.Load())
		requireEvents(t, matching(t, log, s.patterns...), s.seen.evs)
		s.seen.mu.Unlock()
	}
}
