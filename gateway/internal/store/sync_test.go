package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// syncSpy stands in for a store's sync (Store.syncWrites): it counts the
// syncs and, once okLeft syncs have passed, fails them with err. Install
// it before the first write it should see: the committer reads the field
// only when it commits, after taking a request from the queue.
type syncSpy struct {
	real func(values bool) error

	mu     sync.Mutex
	n      int
	okLeft int // syncs that still pass while err is set
	err    error
}

func spyOnSync(s *Store) *syncSpy {
	sp := &syncSpy{real: s.syncWrites}
	s.syncWrites = sp.sync
	return sp
}

func (sp *syncSpy) sync(values bool) error {
	sp.mu.Lock()
	sp.n++
	err := sp.err
	if err != nil && sp.okLeft > 0 {
		sp.okLeft--
		err = nil
	}
	sp.mu.Unlock()
	if err != nil {
		return err
	}
	return sp.real(values)
}

func (sp *syncSpy) count() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.n
}

// failAfter makes every sync after the next ok ones fail with err; nil
// makes them pass again.
func (sp *syncSpy) failAfter(ok int, err error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.okLeft, sp.err = ok, err
}

var errDisk = errors.New("disk on fire")

// requireSynced runs write, which must sync before it returns.
func requireSynced(tb testing.TB, sp *syncSpy, what string, write func() error) {
	tb.Helper()
	before := sp.count()
	require.NoError(tb, write())
	require.True(tb, sp.count() > before, "%s must sync before it returns", what)
}

// requireUnsynced runs write, which must not sync: no sync of the store's,
// and Badger does not sync each commit on its own (SyncWrites).
func requireUnsynced(tb testing.TB, s *Store, sp *syncSpy, what string, write func() error) {
	tb.Helper()
	before := sp.count()
	require.NoError(tb, write())
	require.Equal(tb, before, sp.count(), "%s must not sync", what)
	require.False(tb, s.db.Opts().SyncWrites, "Badger must not sync every commit (%s)", what)
}

// TestStore_Append_syncs: with Options.Sync an append is answered after a
// sync, and a group of requests shares one; without it nothing syncs.
func TestStore_Append_syncs(t *testing.T) {
	for _, durable := range []bool{true, false} {
		g := newGate()
		s, _ := openTemp(t, Options{Sync: durable, OnCommit: g.OnCommit})
		sp := spyOnSync(s)
		appendOK(t, s, draft("a", `1`))
		want := 0
		if durable {
			want = 1
		}
		require.Equal(t, want, sp.count(), "syncs after one append (Sync %v)", durable)

		_, errs := groupCommit(t, s, g, []Draft{draft("a", `2`)}, []Draft{draft("a", `3`), draft("a", `4`)}, []Draft{draft("a", `5`)})
		for _, err := range errs {
			require.NoError(t, err)
		}
		if durable {
			want = 3 // the warm-up's, and one for the group of three
		}
		require.Equal(t, want, sp.count(), "syncs after a group (Sync %v)", durable)
	}
}

// TestStore_Append_failedSync: an append whose sync fails is not
// acknowledged, and the integrity record does not count its events.
func TestStore_Append_failedSync(t *testing.T) {
	s, dir := openTemp(t, Options{Sync: true})
	sp := spyOnSync(s)
	ctx := context.Background()

	sp.failAfter(0, errDisk)
	res, err := s.Append(ctx, []Draft{draft("a", `1`), draft("a", `2`)})
	require.ErrorIs(t, err, ErrNotSynced)
	require.ErrorIs(t, err, errDisk)
	require.True(t, res == nil, "a failed append returns no results")
	_, err = s.Append(ctx, []Draft{{Type: "a", Data: []byte(`3`), IdemKey: "h:k"}})
	require.ErrorIs(t, err, ErrNotSynced)

	// The client's retry: the key is resolved to the event the failed
	// append committed, and the answer still waits for a sync.
	sp.failAfter(0, nil)
	before := sp.count()
	known, err := s.Replays(ctx, []Draft{{Type: "a", Data: []byte(`3`), IdemKey: "h:k"}})
	require.NoError(t, err)
	require.False(t, known[0].Replayed, "Replays must not answer for an event whose sync failed")
	retry := appendOK(t, s, Draft{Type: "a", Data: []byte(`3`), IdemKey: "h:k"})
	require.True(t, retry[0].Replayed, "the retry replays the committed event")
	require.Equal(t, before+1, sp.count(), "a replay of an event whose sync failed syncs")
	known, err = s.Replays(ctx, []Draft{{Type: "a", Data: []byte(`3`), IdemKey: "h:k"}})
	require.NoError(t, err)
	require.True(t, known[0].Replayed, "once synced, Replays answers for it")

	appendOK(t, s, draft("a", `4`), draft("a", `5`))
	require.NoError(t, s.Close())
	rec, err := readIntegrity(dir)
	require.NoError(t, err)
	// 4 and 5 are acknowledged; the replay stored nothing new. 1, 2 and 3
	// were committed, but their sync failed.
	require.Equal(t, uint64(2), rec.Events)
	s = openAt(t, dir, Options{})
	require.True(t, len(readAll(t, s, 100)) >= 2, "the acknowledged events are there")
}

// TestStore_Append_failedSyncGroup: a failed sync fails every request of
// its group, on the fast path and on the slow one (commitEach), which
// syncs once after committing its transactions. An in-memory store refuses
// a value over the value threshold, which sends its group down the slow
// path; its syncs are no-ops, but they are counted all the same.
func TestStore_Append_failedSyncGroup(t *testing.T) {
	small := []Draft{draft("small", `{}`)}
	bad := []Draft{{Type: "bad", Data: bytes.Repeat([]byte{'7'}, valueThreshold+1<<10)}}
	for _, tc := range []struct {
		name   string
		memory bool
		reqs   [][]Draft
		// refused is the index of a request that fails on its own.
		refused int
	}{
		{name: "one transaction", reqs: [][]Draft{small, small, small}, refused: -1},
		{name: "commitEach", memory: true, reqs: [][]Draft{small, bad, small}, refused: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fail := range []bool{false, true} {
				g := newGate()
				opts := Options{Sync: true, Memory: tc.memory, OnCommit: g.OnCommit}
				var s *Store
				if tc.memory {
					var err error
					opts.Logger = slog.New(slog.DiscardHandler)
					s, err = Open(opts)
					require.NoError(t, err)
					t.Cleanup(func() { _ = s.Close() })
				} else {
					s, _ = openTemp(t, opts)
				}
				sp := spyOnSync(s)
				if fail {
					sp.failAfter(1, errDisk) // the warm-up's sync passes
				}
				_, errs := groupCommit(t, s, g, tc.reqs...)
				require.Equal(t, 2, sp.count(), "syncs: the warm-up's and one for the group")
				for i, err := range errs {
					switch {
					case i == tc.refused:
						require.True(t, err != nil && !errors.Is(err, ErrNotSynced), "the bad request fails on its own: %v", err)
					case fail:
						require.ErrorIs(t, err, ErrNotSynced)
					default:
						require.NoError(t, err)
					}
				}
			}
		})
	}
}

// TestStore_unsyncedWrites: what is re-derivable after a crash, or
// at-least-once anyway, is written without a sync.
func TestStore_unsyncedWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{Sync: true})
	sp := spyOnSync(s)
	ev := appendOK(t, s, draft("a", `1`))[0].Event
	d := outbox.Delivery{EventSeq: ev.Seq, EventID: ev.ID, EventType: "a", WebhookID: "wh_a", Status: outbox.StatusPending}
	kv, err := s.PluginKV("p", 0)
	require.NoError(t, err)

	requireUnsynced(t, s, sp, "SetCursor", func() error { return s.SetCursor(ctx, "deliveries", ev.Seq) })
	requireUnsynced(t, s, sp, "SaveOutcomes", func() error {
		return s.SaveOutcomes(ctx, []Outcome{{Seq: ev.Seq, Data: []byte(`2`)}})
	})
	requireUnsynced(t, s, sp, "CreateDeliveries", func() error {
		_, err := s.CreateDeliveries(ctx, []outbox.Delivery{d})
		return err
	})
	d.Status, d.Attempts = outbox.StatusSucceeded, 1
	requireUnsynced(t, s, sp, "UpdateDeliveries", func() error {
		return s.UpdateDeliveries(ctx, []outbox.Update{{Delivery: d, Attempt: &outbox.Attempt{N: 1}}})
	})
	requireUnsynced(t, s, sp, "PluginKV.Set", func() error { return kv.Set(ctx, []byte("k"), []byte("v"), 0) })
	requireUnsynced(t, s, sp, "PluginKV.Incr", func() error {
		_, err := kv.Incr(ctx, []byte("n"), 1, 0)
		return err
	})
	requireUnsynced(t, s, sp, "PluginKV.Delete", func() error { return kv.Delete(ctx, []byte("k")) })
	requireUnsynced(t, s, sp, "Sweep", func() error {
		_, err := s.Sweep(ctx, time.Now().Add(time.Hour), func(event.Seq) bool { return true })
		return err
	})
}

// TestStore_syncedWrites: what an operator or app developer is told is
// done, webhook registrations and uploaded plugins, is synced before the
// call returns; a failed sync fails the call. Without Options.Sync nothing
// syncs.
func TestStore_syncedWrites(t *testing.T) {
	ctx := context.Background()
	uses := func(settings []byte, hash string) bool { return string(settings) == hash }
	wasm := []byte("module")
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	put := func(url string) func(*webhook.Webhook) (*webhook.Webhook, error) {
		return func(*webhook.Webhook) (*webhook.Webhook, error) {
			return &webhook.Webhook{ID: "wh_1", URL: url, Enabled: true}, nil
		}
	}
	del := func(*webhook.Webhook) (*webhook.Webhook, error) { return nil, nil }
	writes := []struct {
		what  string
		write func(s *Store) error
	}{
		{"MutateWebhook (create)", func(s *Store) error { _, err := s.MutateWebhook(ctx, "wh_1", put("https://example.com/a")); return err }},
		{"MutateWebhook (update)", func(s *Store) error { _, err := s.MutateWebhook(ctx, "wh_1", put("https://example.com/b")); return err }},
		{"MutateWebhook (delete)", func(s *Store) error { _, err := s.MutateWebhook(ctx, "wh_1", del); return err }},
		{"SavePlugin", func(s *Store) error { return s.SavePlugin(ctx, "p", []byte(hash), wasm, "", uses) }},
		{"DeletePlugin", func(s *Store) error { return s.DeletePlugin(ctx, "p", hash, uses) }},
	}

	s, _ := openTemp(t, Options{Sync: true})
	sp := spyOnSync(s)
	for _, w := range writes {
		requireSynced(t, sp, w.what, func() error { return w.write(s) })
	}
	sp.failAfter(0, errDisk)
	for _, w := range writes {
		err := w.write(s)
		require.ErrorIs(t, err, ErrNotSynced, "%s with a failing sync", w.what)
		require.ErrorIs(t, err, errDisk, "%s with a failing sync", w.what)
	}

	s, err := Open(Options{Memory: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	sp = spyOnSync(s)
	for _, w := range writes {
		require.NoError(t, w.write(s))
	}
	require.Equal(t, 0, sp.count(), "without Options.Sync nothing syncs")
}
