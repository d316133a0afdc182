package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestStore_Append_idempotency(t *testing.T) {
	keyed := func(key, typ, data string) Draft {
		return Draft{Type: typ, Source: "src", Data: []byte(data), IdemKey: key}
	}
	tests := []struct {
		name  string
		first []Draft // appended first, must succeed
		then  []Draft
		// wantErr, if set, is the error of the second append.
		wantErr error
		// wantReplayed[i] says whether then[i] replays; wantSameAs[i] >= 0
		// names the event of first (or < -1: of then, -2-j) it returns.
		wantReplayed []bool
		wantSameAs   []int
	}{
		{
			name:         "same key, same request replays",
			first:        []Draft{keyed("k", "a", `1`)},
			then:         []Draft{keyed("k", "a", `1`)},
			wantReplayed: []bool{true},
			wantSameAs:   []int{0},
		},
		{
			name:    "same key, other data conflicts",
			first:   []Draft{keyed("k", "a", `1`)},
			then:    []Draft{keyed("k", "a", `2`)},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:    "same key, other type conflicts",
			first:   []Draft{keyed("k", "a", `1`)},
			then:    []Draft{keyed("k", "b", `1`)},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:    "same key, other source conflicts",
			first:   []Draft{keyed("k", "a", `1`)},
			then:    []Draft{{Type: "a", Source: "other", Data: []byte(`1`), IdemKey: "k"}},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:    "field boundaries are part of the hash",
			first:   []Draft{{Type: "ab", Source: "c", Data: []byte(`1`), IdemKey: "k"}},
			then:    []Draft{{Type: "a", Source: "bc", Data: []byte(`1`), IdemKey: "k"}},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:         "a batch mixes replays and new events",
			first:        []Draft{keyed("k1", "a", `1`), keyed("k2", "a", `2`)},
			then:         []Draft{keyed("k2", "a", `2`), keyed("k3", "a", `3`), draft("a", `4`), keyed("k1", "a", `1`)},
			wantReplayed: []bool{true, false, false, true},
			wantSameAs:   []int{1, -1, -1, 0},
		},
		{
			name:         "a legacy key is found when the key is not",
			first:        []Draft{keyed("h:k", "a", `1`)},
			then:         []Draft{{Type: "a", Source: "src", Data: []byte(`1`), IdemKey: "h:name\x00k", LegacyIdemKey: "h:k"}},
			wantReplayed: []bool{true},
			wantSameAs:   []int{0},
		},
		{
			name:    "a legacy key with other data conflicts",
			first:   []Draft{keyed("h:k", "a", `1`)},
			then:    []Draft{{Type: "a", Source: "src", Data: []byte(`2`), IdemKey: "h:name\x00k", LegacyIdemKey: "h:k"}},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:         "the key wins over the legacy key",
			first:        []Draft{keyed("h:k", "a", `1`), keyed("h:name\x00k", "a", `2`)},
			then:         []Draft{{Type: "a", Source: "src", Data: []byte(`2`), IdemKey: "h:name\x00k", LegacyIdemKey: "h:k"}},
			wantReplayed: []bool{true},
			wantSameAs:   []int{1},
		},
		{
			name:         "a duplicate key inside one append replays the first draft",
			then:         []Draft{keyed("k", "a", `1`), draft("a", `x`), keyed("k", "a", `1`)},
			wantReplayed: []bool{false, false, true},
			wantSameAs:   []int{-1, -1, -2},
		},
		{
			name:    "a duplicate key inside one append with other data conflicts",
			then:    []Draft{keyed("k", "a", `1`), keyed("k", "a", `2`)},
			wantErr: ErrIdempotencyConflict,
		},
		{
			name:    "one conflicting draft refuses the whole batch",
			first:   []Draft{keyed("k", "a", `1`)},
			then:    []Draft{draft("a", `new`), keyed("k2", "a", `2`), keyed("k", "a", `changed`)},
			wantErr: ErrIdempotencyConflict,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTemp(t, Options{})
			var first []Appended
			if len(tc.first) > 0 {
				first = appendOK(t, s, tc.first...)
			}
			before := readAll(t, s, 100)
			requireReplaysAgree(t, s, tc.then, tc.wantErr, first, tc.wantSameAs)
			require.Equal(t, len(before), len(readAll(t, s, 100)))
			got, err := s.Append(ctx, tc.then)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.True(t, got == nil, "a failed append returns no results, got %v", got)
				// Nothing of the refused batch was stored, keys included.
				require.Equal(t, len(before), len(readAll(t, s, 100)))
				for i, d := range tc.then {
					if d.IdemKey == "" || containsKey(tc.first, d.IdemKey) || containsKey(tc.then[:i], d.IdemKey) || containsKey(tc.first, d.LegacyIdemKey) {
						continue
					}
					res := appendOK(t, s, d)
					require.False(t, res[0].Replayed, "key %q of a refused batch was remembered", d.IdemKey)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, len(tc.then), len(got))
			newEvents := 0
			for i, a := range got {
				require.Equal(t, tc.wantReplayed[i], a.Replayed)
				switch j := tc.wantSameAs[i]; {
				case j >= 0:
					requireSameEvent(t, first[j].Event, a.Event)
				case j < -1:
					requireSameEvent(t, got[-2-j].Event, a.Event)
				default:
					newEvents++
				}
			}
			after := readAll(t, s, 100)
			require.Equal(t, len(before)+newEvents, len(after))
		})
	}
}

// requireReplaysAgree checks that Replays predicts Append without writing:
// the same refusal, and a replay of first[j] exactly where wantSameAs says
// Append replays a stored event. A draft that repeats a new draft of the
// same call is not stored yet, so Replays says it does not replay.
func requireReplaysAgree(tb testing.TB, s *Store, drafts []Draft, wantErr error, first []Appended, wantSameAs []int) {
	tb.Helper()
	got, err := s.Replays(context.Background(), drafts)
	if wantErr != nil {
		require.ErrorIs(tb, err, wantErr)
		return
	}
	require.NoError(tb, err)
	require.Equal(tb, len(drafts), len(got))
	for i, a := range got {
		j := wantSameAs[i]
		if j < -1 {
			j = wantSameAs[-2-j] // the earlier draft it repeats
		}
		require.Equal(tb, j >= 0, a.Replayed)
		if j >= 0 {
			requireSameEvent(tb, first[j].Event, a.Event)
		}
	}
}

func containsKey(ds []Draft, key string) bool {
	for _, d := range ds {
		if d.IdemKey == key {
			return true
		}
	}
	return false
}

// TestStore_Append_conflictInGroup queues three requests into one group
// commit. The one that reuses a key with other data is refused and leaves no
// trace; the others commit, including one whose key the refused request
// also carried.
func TestStore_Append_conflictInGroup(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{OnCommit: g.OnCommit})
	orig := appendOK(t, s, Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"})[0].Event

	res, errs := groupCommit(t, s, g,
		[]Draft{draft("plain", `{}`)},
		[]Draft{{Type: "b", Data: []byte(`2`), IdemKey: "k2"}, {Type: "a", Data: []byte(`changed`), IdemKey: "k"}},
		[]Draft{{Type: "c", Data: []byte(`3`), IdemKey: "k2"}},
	)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], ErrIdempotencyConflict)
	require.NoError(t, errs[2])
	require.False(t, res[2][0].Replayed, "k2 must be new: the refused request must not have written it")
	require.Equal(t, "c", res[2][0].Event.Type)

	all := readAll(t, s, 100)
	var types []string
	for _, ev := range all {
		types = append(types, ev.Type)
	}
	// orig, warmup, then the group in queue order (plain and c, any order).
	require.Equal(t, 4, len(all))
	requireSameEvent(t, orig, all[0])
	require.True(t, (types[2] == "plain" && types[3] == "c") || (types[2] == "c" && types[3] == "plain"), "unexpected log %v", types)
	requireIncreasing(t, all)

	// Replaying k still gives the original; k2 replays the winner.
	again := appendOK(t, s, Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"}, Draft{Type: "c", Data: []byte(`3`), IdemKey: "k2"})
	requireSameEvent(t, orig, again[0].Event)
	requireSameEvent(t, res[2][0].Event, again[1].Event)

	require.NoError(t, s.Close())
	// orig, warmup and the group: three commits, so the group was one.
	require.Equal(t, 3, g.count())
}

// TestStore_Append_sameKeyInGroup has two requests with the same key in one
// group: the second replays the first although neither was committed when
// the second was staged.
func TestStore_Append_sameKeyInGroup(t *testing.T) {
	g := newGate()
	s, _ := openTemp(t, Options{OnCommit: g.OnCommit})
	d := Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"}
	res, errs := groupCommit(t, s, g, []Draft{d}, []Draft{d}, []Draft{{Type: "a", Data: []byte(`2`), IdemKey: "k"}})
	var won, replayed, refused int
	var ev event.Event
	for i := range res {
		switch {
		case errs[i] != nil:
			require.ErrorIs(t, errs[i], ErrIdempotencyConflict)
			refused++
		case res[i][0].Replayed:
			replayed++
		default:
			won++
			ev = res[i][0].Event
		}
	}
	// Either the `1` request wins (one replay, the `2` refused) or `2` does
	// (both `1` requests refused), depending on queue order.
	require.True(t, won == 1 && (replayed == 1 && refused == 1 || replayed == 0 && refused == 2),
		"won %d, replayed %d, refused %d", won, replayed, refused)
	for i := range res {
		if errs[i] == nil {
			requireSameEvent(t, ev, res[i][0].Event)
		}
	}
	require.Equal(t, 2, len(readAll(t, s, 100))) // warmup and the winner
}

// openExpiring opens a store whose idempotency keys expire after a second.
// Badger's TTL runs on the real clock with one-second resolution, not on
// Options.Now, so tests on it wait (polling, bounded) for the window to pass;
// -short skips them.
func openExpiring(t *testing.T) *Store {
	t.Helper()
	if testing.Short() {
		t.Skip("waits for a real one-second TTL")
	}
	t.Parallel()
	s, _ := openTemp(t, Options{IdempotencyWindow: time.Second})
	return s
}

// appendUntilExpired appends d again and again until its idempotency key has
// expired, and returns the first outcome that is not what a remembered key
// gives: an error that is kept, or a replay if kept is nil.
func appendUntilExpired(t *testing.T, s *Store, d Draft, kept error) ([]Appended, error) {
	t.Helper()
	var res []Appended
	var err error
	require.Eventually(t, "the idempotency key to expire", func() bool {
		res, err = s.Append(context.Background(), []Draft{d})
		if kept != nil {
			return !errors.Is(err, kept)
		}
		return err != nil || !res[0].Replayed
	})
	return res, err
}

// TestStore_Append_idempotencyWindow checks that keys expire.
func TestStore_Append_idempotencyWindow(t *testing.T) {
	s := openExpiring(t)
	ctx := context.Background()
	d := Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"}
	first := appendOK(t, s, d)[0].Event

	// While the key is remembered, a different request conflicts; once it
	// has expired, the same key stores a new event.
	changed := Draft{Type: "a", Data: []byte(`2`), IdemKey: "k"}
	res, err := appendUntilExpired(t, s, changed, ErrIdempotencyConflict)
	require.NoError(t, err)
	second := res[0]
	require.False(t, second.Replayed, "an expired key must not replay")
	require.True(t, second.Event.Seq != first.Seq, "an expired key must store a new event")
	// The new event now owns the key.
	again := appendOK(t, s, changed)
	require.True(t, again[0].Replayed, "the key must be remembered again")
	requireSameEvent(t, second.Event, again[0].Event)
	// The first event itself is kept: only the key expires.
	got, err := s.Event(ctx, first.ID)
	require.NoError(t, err)
	requireSameEvent(t, first, got)
}

// TestStore_Append_clientIDOutlivesWindow checks that a client id is never
// reused: once its idempotency key has expired, the same id is refused
// rather than stored a second time.
func TestStore_Append_clientIDOutlivesWindow(t *testing.T) {
	s := openExpiring(t)
	ctx := context.Background()
	d := Draft{ID: "order-1", Type: "a", Data: []byte(`1`), IdemKey: "id:order-1"}
	first := appendOK(t, s, d)[0].Event
	// Within the window the same request replays.
	_, err := appendUntilExpired(t, s, d, nil)
	require.ErrorIs(t, err, ErrIDTaken)
	_, err = s.Replays(ctx, []Draft{d})
	require.ErrorIs(t, err, ErrIDTaken)

	got, err := s.Event(ctx, "order-1")
	require.NoError(t, err)
	requireSameEvent(t, first, got)
	require.Equal(t, 1, len(readAll(t, s, 100)))
}

// TestStore_Replays_closed checks that Replays on a closed store says so,
// as Append does.
func TestStore_Replays_closed(t *testing.T) {
	s, _ := openTemp(t, Options{})
	require.NoError(t, s.Close())
	_, err := s.Replays(context.Background(), []Draft{{Type: "a", Data: []byte(`1`), IdemKey: "k"}})
	require.ErrorIs(t, err, ErrClosed)
}
