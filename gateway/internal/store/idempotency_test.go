package store

import (
	"context"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
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
			got, err := s.Append(ctx, tc.then)
			if tc.wantErr != nil {
				requireErrorIs(t, err, tc.wantErr)
				requireTrue(t, got == nil, "a failed append returns no results, got %v", got)
				// Nothing of the refused batch was stored, keys included.
				requireEqual(t, len(before), len(readAll(t, s, 100)))
				for i, d := range tc.then {
					if d.IdemKey == "" || containsKey(tc.first, d.IdemKey) || containsKey(tc.then[:i], d.IdemKey) {
						continue
					}
					res := appendOK(t, s, d)
					requireTrue(t, !res[0].Replayed, "key %q of a refused batch was remembered", d.IdemKey)
				}
				return
			}
			requireNoError(t, err)
			requireEqual(t, len(tc.then), len(got))
			newEvents := 0
			for i, a := range got {
				requireEqual(t, tc.wantReplayed[i], a.Replayed)
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
			requireEqual(t, len(before)+newEvents, len(after))
		})
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
	requireNoError(t, errs[0])
	requireErrorIs(t, errs[1], ErrIdempotencyConflict)
	requireNoError(t, errs[2])
	requireTrue(t, !res[2][0].Replayed, "k2 must be new: the refused request must not have written it")
	requireEqual(t, "c", res[2][0].Event.Type)

	all := readAll(t, s, 100)
	var types []string
	for _, ev := range all {
		types = append(types, ev.Type)
	}
	// orig, warmup, then the group in queue order (plain and c, any order).
	requireEqual(t, 4, len(all))
	requireSameEvent(t, orig, all[0])
	requireTrue(t, (types[2] == "plain" && types[3] == "c") || (types[2] == "c" && types[3] == "plain"), "unexpected log %v", types)
	requireIncreasing(t, all)

	// Replaying k still gives the original; k2 replays the winner.
	again := appendOK(t, s, Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"}, Draft{Type: "c", Data: []byte(`3`), IdemKey: "k2"})
	requireSameEvent(t, orig, again[0].Event)
	requireSameEvent(t, res[2][0].Event, again[1].Event)

	requireNoError(t, s.Close())
	// orig, warmup and the group: three commits, so the group was one.
	requireEqual(t, 3, g.count())
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
			requireErrorIs(t, errs[i], ErrIdempotencyConflict)
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
	requireTrue(t, won == 1 && (replayed == 1 && refused == 1 || replayed == 0 && refused == 2),
		"won %d, replayed %d, refused %d", won, replayed, refused)
	for i := range res {
		if errs[i] == nil {
			requireSameEvent(t, ev, res[i][0].Event)
		}
	}
	requireEqual(t, 2, len(readAll(t, s, 100))) // warmup and the winner
}

// TestStore_Append_idempotencyWindow checks that keys expire. Badger's TTL
// runs on the real clock with one-second resolution, not on Options.Now, so
// this waits (polling, bounded) for a one-second window to pass.
func TestStore_Append_idempotencyWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real one-second TTL")
	}
	t.Parallel()
	ctx := context.Background()
	s, _ := openTemp(t, Options{IdempotencyWindow: time.Second})
	d := Draft{Type: "a", Data: []byte(`1`), IdemKey: "k"}
	first := appendOK(t, s, d)[0].Event

	// While the key is remembered, a different request conflicts; once it
	// has expired, the same key stores a new event.
	changed := Draft{Type: "a", Data: []byte(`2`), IdemKey: "k"}
	deadline := time.Now().Add(waitLimit)
	var second Appended
	for {
		res, err := s.Append(ctx, []Draft{changed})
		if err == nil {
			second = res[0]
			break
		}
		requireErrorIs(t, err, ErrIdempotencyConflict)
		if time.Now().After(deadline) {
			t.Fatal("the idempotency key never expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	requireTrue(t, !second.Replayed, "an expired key must not replay")
	requireTrue(t, second.Event.Seq != first.Seq, "an expired key must store a new event")
	// The new event now owns the key.
	again := appendOK(t, s, changed)
	requireTrue(t, again[0].Replayed, "the key must be remembered again")
	requireSameEvent(t, second.Event, again[0].Event)
	// The first event itself is kept: only the key expires.
	got, err := s.Event(ctx, first.ID)
	requireNoError(t, err)
	requireSameEvent(t, first, got)
}

// TestStore_Append_clientIDOutlivesWindow checks that a client id is never
// reused: once its idempotency key has expired, the same id is refused
// rather than stored a second time.
func TestStore_Append_clientIDOutlivesWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real one-second TTL")
	}
	t.Parallel()
	ctx := context.Background()
	s, _ := openTemp(t, Options{IdempotencyWindow: time.Second})
	d := Draft{ID: "order-1", Type: "a", Data: []byte(`1`), IdemKey: "id:order-1"}
	first := appendOK(t, s, d)[0].Event
	deadline := time.Now().Add(waitLimit)
	for {
		res, err := s.Append(ctx, []Draft{d})
		if err != nil {
			requireErrorIs(t, err, ErrIDTaken)
			break
		}
		requireTrue(t, res[0].Replayed, "within the window the same request replays")
		if time.Now().After(deadline) {
			t.Fatal("the idempotency key never expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := s.Event(ctx, "order-1")
	requireNoError(t, err)
	requireSameEvent(t, first, got)
	requireEqual(t, 1, len(readAll(t, s, 100)))
}
