package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// TestStore_reopen writes events every way Append allows, closes the store,
// reopens the directory and reads everything back.
func TestStore_reopen(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	s, dir := openTemp(t, Options{Sync: true, Now: clk.Now})

	var written []event.Event
	for _, r := range [][]Draft{
		{draft("order.created", `{"n":1}`)},
		{{ID: "client-1", Type: "order.paid", Source: "shop", Data: []byte(`{"n":2}`)}},
		{{Type: "order.created", Data: []byte(`{"n":3}`), IdemKey: "h:k1"}},
		{ // a batch mixing all three
			draft("order.shipped", `{"n":4}`),
			{ID: "client-2", Type: "order.shipped", Data: []byte(`[1,2,3]`), IdemKey: "id:client-2"},
			{Type: "user.signup", Data: []byte(`"str"`), IdemKey: "h:k2"},
		},
	} {
		for _, a := range appendOK(t, s, r...) {
			require.False(t, a.Replayed, "a first append must not be replayed")
			written = append(written, a.Event)
		}
		clk.Set(clk.Now().Add(time.Second))
	}
	requireIncreasing(t, written)
	for _, ev := range written {
		if ev.ID == "client-1" || ev.ID == "client-2" {
			continue
		}
		require.Equal(t, event.IDPrefix+ev.Seq.String(), ev.ID)
	}
	require.NoError(t, s.Close())
	require.NoError(t, s.Close()) // idempotent

	s = openAt(t, dir, Options{Now: clk.Now})
	for _, want := range written {
		got, err := s.Event(ctx, want.ID)
		require.NoError(t, err)
		requireSameEvent(t, want, got)
	}
	all := readAll(t, s, 2)
	require.Equal(t, len(written), len(all))
	for i := range written {
		requireSameEvent(t, written[i], all[i])
	}
	listed, more, err := s.Events(ctx, Query{Limit: 100})
	require.NoError(t, err)
	require.False(t, more, "one page holds every event")
	slices.Reverse(listed)
	for i := range written {
		requireSameEvent(t, written[i], listed[i])
	}
	last, err := s.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, written[len(written)-1].Seq, last)

	// Idempotency keys survive the restart too.
	res := appendOK(t, s, Draft{Type: "order.created", Data: []byte(`{"n":3}`), IdemKey: "h:k1"})
	require.True(t, res[0].Replayed, "a key written before the restart must replay")
	requireSameEvent(t, written[2], res[0].Event)
}

func TestStore_Event(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	res := appendOK(t, s, draft("a.b", `1`), Draft{ID: "mine", Type: "a.b", Data: []byte(`2`)})
	server, client := res[0].Event, res[1].Event

	absent := server.Seq
	absent[15]++
	tests := []struct {
		name string
		id   string
		want *event.Event
	}{
		{"server id", server.ID, &server},
		{"client id", "mine", &client},
		{"unknown client id", "yours", nil},
		{"well-formed server id that was never assigned", event.IDPrefix + absent.String(), nil},
		{"server id in lower case", event.IDPrefix + toLower(server.Seq.String()), nil},
		{"server id of a client event", event.IDPrefix + client.Seq.String(), nil},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Event(ctx, tc.id)
			if tc.want == nil {
				require.ErrorIs(t, err, ErrNotFound)
				return
			}
			require.NoError(t, err)
			requireSameEvent(t, *tc.want, got)
		})
	}
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func TestStore_Events(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	s, _ := openTemp(t, Options{Now: clk.Now})
	// Event i is stored at t0 + i seconds.
	types := []string{"a.x", "b.y", "a.x", "a.z", "b.y", "a.x", "c", "a.x"}
	var evs []event.Event
	for i, typ := range types {
		clk.Set(t0.Add(time.Duration(i) * time.Second))
		evs = append(evs, appendOK(t, s, draft(typ, fmt.Sprint(i)))[0].Event)
	}
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

	tests := []struct {
		name     string
		q        Query
		want     []int // indexes into evs, newest first
		wantMore bool
	}{
		{name: "everything", q: Query{Limit: 100}, want: []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{name: "limit", q: Query{Limit: 3}, want: []int{7, 6, 5}, wantMore: true},
		{name: "limit equals count", q: Query{Limit: 8}, want: []int{7, 6, 5, 4, 3, 2, 1, 0}},
		{name: "limit below 1 means 1", q: Query{}, want: []int{7}, wantMore: true},
		{name: "type", q: Query{Type: "a.x", Limit: 100}, want: []int{7, 5, 2, 0}},
		{name: "type with limit", q: Query{Type: "a.x", Limit: 2}, want: []int{7, 5}, wantMore: true},
		{name: "type is exact, not a prefix", q: Query{Type: "a", Limit: 100}, want: nil},
		{name: "unknown type", q: Query{Type: "zzz", Limit: 100}, want: nil},
		{name: "since is inclusive", q: Query{Since: at(5), Limit: 100}, want: []int{7, 6, 5}},
		{name: "until is inclusive", q: Query{Until: at(2), Limit: 100}, want: []int{2, 1, 0}},
		{name: "until between events", q: Query{Until: at(2).Add(500 * time.Millisecond), Limit: 100}, want: []int{2, 1, 0}},
		{name: "since and until", q: Query{Since: at(2), Until: at(4), Limit: 100}, want: []int{4, 3, 2}},
		{name: "since, until and type", q: Query{Type: "b.y", Since: at(1), Until: at(4), Limit: 100}, want: []int{4, 1}},
		{name: "since after everything", q: Query{Since: at(8), Limit: 100}, want: nil},
		{name: "until before everything", q: Query{Until: at(-1), Limit: 100}, want: nil},
		{name: "before", q: Query{Before: evs[3].Seq, Limit: 100}, want: []int{2, 1, 0}},
		{name: "before with type", q: Query{Type: "a.x", Before: evs[5].Seq, Limit: 100}, want: []int{2, 0}},
		{name: "before with until after it", q: Query{Before: evs[3].Seq, Until: at(6), Limit: 100}, want: []int{2, 1, 0}},
		{name: "before with since", q: Query{Before: evs[6].Seq, Since: at(3), Limit: 2}, want: []int{5, 4}, wantMore: true},
		{name: "before the first", q: Query{Before: evs[0].Seq, Limit: 100}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, more, err := s.Events(ctx, tc.q)
			require.NoError(t, err)
			require.Equal(t, tc.wantMore, more)
			require.Equal(t, len(tc.want), len(got))
			for i, idx := range tc.want {
				requireSameEvent(t, evs[idx], got[i])
			}
		})
	}

	t.Run("paging with Before visits every event once", func(t *testing.T) {
		for _, typ := range []string{"", "a.x"} {
			var got []event.Event
			q := Query{Type: typ, Limit: 3}
			for {
				page, more, err := s.Events(ctx, q)
				require.NoError(t, err)
				got = append(got, page...)
				if !more {
					break
				}
				q.Before = page[len(page)-1].Seq
			}
			var want []event.Event
			for i := len(evs) - 1; i >= 0; i-- {
				if typ == "" || evs[i].Type == typ {
					want = append(want, evs[i])
				}
			}
			require.Equal(t, len(want), len(got))
			for i := range want {
				requireSameEvent(t, want[i], got[i])
			}
		}
	})
}

func TestStore_ReadAfter(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	s, _ := openTemp(t, Options{Now: clk.Now})

	evs, err := s.ReadAfter(ctx, event.Seq{}, 10)
	require.NoError(t, err)
	require.Equal(t, 0, len(evs))

	var written []event.Event
	for i := range 10 { // events 2i and 2i+1 at t0 + i seconds
		clk.Set(t0.Add(time.Duration(i) * time.Second))
		for _, a := range appendOK(t, s, draft("t", fmt.Sprint(i)), draft("u", fmt.Sprint(i))) {
			written = append(written, a.Event)
		}
	}
	tests := []struct {
		name  string
		after event.Seq
		max   int
		want  []event.Event
	}{
		{"from zero", event.Seq{}, 100, written},
		{"from zero, capped", event.Seq{}, 5, written[:5]},
		{"after an event", written[4].Seq, 3, written[5:8]},
		{"after the last", written[19].Seq, 10, nil},
		{"after a seq that is no event's", event.SeqAt(t0.Add(4500 * time.Millisecond)), 100, written[10:]},
		{"max 0", event.Seq{}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReadAfter(ctx, tc.after, tc.max)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), len(got))
			for i := range tc.want {
				requireSameEvent(t, tc.want[i], got[i])
			}
		})
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.ReadAfter(cctx, event.Seq{}, 1)
	require.ErrorIs(t, err, context.Canceled)
}

// TestStore_clockBackwards checks that seqs keep increasing when the clock
// steps back, both while running and across a restart.
func TestStore_clockBackwards(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	s, dir := openTemp(t, Options{Now: clk.Now})
	var written []event.Event
	add := func(s *Store) {
		for _, a := range appendOK(t, s, draft("t", `1`), draft("t", `2`)) {
			written = append(written, a.Event)
		}
	}
	add(s)
	clk.Set(t0.Add(-time.Hour)) // back while running
	add(s)
	require.NoError(t, s.Close())

	clk.Set(t0.Add(-24 * time.Hour)) // further back while stopped
	s = openAt(t, dir, Options{Now: clk.Now})
	add(s)
	clk.Set(t0.Add(time.Hour)) // and forward again
	add(s)

	requireIncreasing(t, written)
	all := readAll(t, s, 100)
	require.Equal(t, len(written), len(all))
	for i := range written {
		requireSameEvent(t, written[i], all[i])
	}
	// Where the seq had to run ahead of the clock, the event time follows
	// the seq; otherwise it is the clock's, to the nanosecond.
	for _, ev := range all {
		require.Equal(t, ev.Seq.Time(), ev.Time.Truncate(time.Millisecond))
	}
	require.True(t, all[0].Time.Equal(t0), "event time %s is not the clock's", all[0].Time)
	require.True(t, all[4].Time.Equal(all[1].Seq.Time()), "event time %s does not follow the log", all[4].Time)
	require.True(t, all[6].Seq.Time().Equal(t0.Add(time.Hour).Truncate(time.Millisecond)), "seq time %s", all[6].Seq.Time())
	last, err := s.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, written[len(written)-1].Seq, last)
}

// TestStore_Events_untilAfterClockStep: after the clock steps back, events
// are still found by an until bound that covers their time.
func TestStore_Events_untilAfterClockStep(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	s, _ := openTemp(t, Options{Now: clk.Now})
	ahead := appendOK(t, s, draft("t", `1`))[0].Event
	clk.Set(t0.Add(-time.Second)) // NTP steps the clock back
	behind := appendOK(t, s, draft("t", `2`))[0].Event

	got, _, err := s.Events(ctx, Query{Until: behind.Time, Limit: 10})
	require.NoError(t, err)
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.ID)
	}
	require.True(t, slices.Contains(ids, behind.ID), "until %s misses the event stored at %s: got %v", behind.Time, behind.Time, ids)
	// Event times follow commit order, to the millisecond.
	require.False(t, behind.Time.Before(ahead.Time.Truncate(time.Millisecond)), "event time went back: %s after %s", behind.Time, ahead.Time)
	require.Equal(t, behind.Seq.Time(), behind.Time.Truncate(time.Millisecond))
}
