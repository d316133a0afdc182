package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_Append_hammer appends from many goroutines at once. Every
// acknowledged event must be in the log exactly once, in strictly
// increasing seq order, with the data it was sent with.
func TestStore_Append_hammer(t *testing.T) {
	t.Parallel()
	const writers, perWriter = 64, 200
	s, dir := openTemp(t, Options{Sync: true})

	acked := make([][]event.Event, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				d := draft("hammer", fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))
				if i%10 == 0 {
					d.IdemKey = fmt.Sprintf("h:%d-%d", w, i)
				}
				res, err := s.Append(context.Background(), []Draft{d})
				if err != nil {
					errs <- err
					return
				}
				acked[w] = append(acked[w], res[0].Event)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	s = openAt(t, dir, Options{})

	all := readAll(t, s, 1000)
	require.Equal(t, writers*perWriter, len(all))
	requireIncreasing(t, all)
	bySeq := make(map[event.Seq]event.Event, len(all))
	for _, ev := range all {
		bySeq[ev.Seq] = ev
	}
	for w := range writers {
		// One writer's appends are acknowledged in order, so their seqs
		// increase too.
		requireIncreasing(t, acked[w])
		for i, want := range acked[w] {
			got, ok := bySeq[want.Seq]
			require.True(t, ok, "acknowledged event %d of writer %d is missing", i, w)
			requireSameEvent(t, want, got)
			require.Equal(t, fmt.Sprintf(`{"w":%d,"i":%d}`, w, i), string(got.Data))
		}
	}
}

// TestStore_Append_tooLarge finds out where Badger's transaction limit lies
// and checks that a request over it fails alone. With the store's 16 MiB
// memtables one transaction holds about 2.4 MiB (15%) of values below
// Badger's 1 MiB value threshold; larger values go to the value log and
// count only as pointers. So several 5 MiB drafts fit, while eight 900 KiB
// drafts do not.
func TestStore_Append_tooLarge(t *testing.T) {
	t.Parallel()
	many := func(n, size int) []Draft {
		ds := make([]Draft, n)
		for i := range ds {
			ds[i] = Draft{Type: "big", Data: bytes.Repeat([]byte{'7'}, size)}
		}
		return ds
	}
	tests := []struct {
		name    string
		big     []Draft
		wantErr error
	}{
		{name: "values in the value log fit", big: many(3, 5<<20)},
		// Events just under server.max_body_bytes (1 MiB) go to the value
		// log too, so a batch of them fits in one commit.
		{name: "1 MiB events go to the value log", big: many(12, 1000<<10)},
		{name: "values in the LSM tree overflow", big: many(50, valueThreshold-1<<10), wantErr: ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			s, _ := openTemp(t, Options{OnCommit: g.OnCommit})
			small := []Draft{draft("small", `{}`)}
			res, errs := groupCommit(t, s, g, tc.big, small, small)
			for _, i := range []int{1, 2} {
				require.NoError(t, errs[i])
				require.Equal(t, "small", res[i][0].Event.Type)
			}
			all := readAll(t, s, 100)
			if tc.wantErr != nil {
				require.ErrorIs(t, errs[0], tc.wantErr)
				require.True(t, res[0] == nil, "a refused append returns no results")
				require.Equal(t, 3, len(all)) // warmup and the two small ones
				return
			}
			require.NoError(t, errs[0])
			require.Equal(t, 1+len(tc.big)+2, len(all))
			for i, a := range res[0] {
				got, err := s.Event(context.Background(), a.Event.ID)
				require.NoError(t, err)
				require.Equal(t, len(tc.big[i].Data), len(got.Data))
			}
		})
	}
}

// TestStore_Append_badRequestInGroup: a request Badger refuses for a reason
// other than size (here: an in-memory store cannot hold a value above the
// value threshold) fails alone instead of failing its whole group.
func TestStore_Append_badRequestInGroup(t *testing.T) {
	g := newGate()
	s, err := Open(Options{Memory: true, Logger: slog.New(slog.DiscardHandler), OnCommit: g.OnCommit})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	huge := []Draft{{Type: "huge", Data: bytes.Repeat([]byte{'x'}, 2<<20)}}
	small := []Draft{draft("small", `{}`)}
	res, errs := groupCommit(t, s, g, small, huge, small)
	require.True(t, errs[1] != nil, "a value over the in-memory limit must be refused")
	require.NoError(t, errs[0])
	require.NoError(t, errs[2])
	require.Equal(t, "small", res[0][0].Event.Type)
	require.Equal(t, 3, len(readAll(t, s, 100)))
}

func TestStore_Close(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t, Options{})
	appendOK(t, s, draft("a", `1`))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	// Appends after Close fail; before the fix, half of them hung forever
	// because select picked the still open queue.
	for range 100 {
		done := make(chan error, 1)
		go func() {
			_, err := s.Append(ctx, []Draft{draft("a", `2`)})
			done <- err
		}()
		require.ErrorIs(t, require.Receive(t, done, "Append after Close to return"), ErrClosed)
	}
	s = openAt(t, dir, Options{})
	require.Equal(t, 1, len(readAll(t, s, 10)))
}

// TestStore_Close_duringAppends closes the store while appends are in
// flight: each one is either acknowledged, and then stored, or fails with
// ErrClosed. None hangs.
func TestStore_Close_duringAppends(t *testing.T) {
	t.Parallel()
	s, dir := openTemp(t, Options{Sync: true})
	var mu sync.Mutex
	var acked []event.Event
	var wg sync.WaitGroup
	started := make(chan struct{}, 16)
	for range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				res, err := s.Append(context.Background(), []Draft{draft("a", fmt.Sprint(i))})
				if i == 10 {
					started <- struct{}{}
				}
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("append during Close: want ErrClosed, got %v", err)
					}
					if i < 10 {
						started <- struct{}{}
					}
					return
				}
				mu.Lock()
				acked = append(acked, res[0].Event)
				mu.Unlock()
			}
		})
	}
	for range 16 {
		<-started
	}
	require.NoError(t, s.Close())
	wg.Wait()

	s = openAt(t, dir, Options{})
	all := readAll(t, s, 1000)
	stored := make(map[event.Seq]bool, len(all))
	for _, ev := range all {
		stored[ev.Seq] = true
	}
	for _, ev := range acked {
		require.True(t, stored[ev.Seq], "acknowledged event %s is missing", ev.ID)
	}
	// Requests answered by the final drain are stored but may have been
	// acknowledged after acked was read; either way there are no strays.
	require.True(t, len(all) >= len(acked), "stored %d < acked %d", len(all), len(acked))
}

func TestStore_Append_cancelledContext(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A cancelled context may still get the request queued (select picks
	// at random); then it is answered like any other. Either way the
	// outcome is reported truthfully.
	for range 20 {
		res, err := s.Append(ctx, []Draft{draft("a", `1`)})
		if err != nil {
			require.ErrorIs(t, err, context.Canceled)
			continue
		}
		got, gerr := s.Event(context.Background(), res[0].Event.ID)
		require.NoError(t, gerr)
		requireSameEvent(t, res[0].Event, got)
	}
}
