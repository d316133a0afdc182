package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_backupUnderLoad backs up a store while publishers append to it
// and restores the backup into a new directory: every event acknowledged
// before the backup started is there.
func TestStore_backupUnderLoad(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{Sync: true})

	var mu sync.Mutex
	var acked []event.Event // in ack order
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := s.Append(ctx, []Draft{draft("load", fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, res[0].Event)
				mu.Unlock()
			}
		})
	}
	require.Eventually(t, "publishers to ack 200 events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 200
	})
	mu.Lock()
	before := append([]event.Event(nil), acked...)
	mu.Unlock()
	var buf bytes.Buffer
	require.NoError(t, s.Backup(ctx, &buf))
	close(stop)
	wg.Wait()
	require.NoError(t, s.Close())

	dir := filepath.Join(t.TempDir(), "restored")
	require.NoError(t, Restore(dir, bytes.NewReader(buf.Bytes()), slog.New(slog.DiscardHandler)))
	rec, err := readIntegrity(dir)
	require.NoError(t, err)
	require.True(t, rec != nil, "restore writes an integrity record")

	r := openAt(t, dir, Options{})
	for _, ev := range before {
		got, err := r.Event(ctx, ev.ID)
		require.NoError(t, err, "event %s, acknowledged before the backup, after the restore", ev.ID)
		requireSameEvent(t, ev, got)
	}
	all := readAll(t, r, 500)
	require.True(t, rec.Events == uint64(len(all)), "the record says %d events, the restore holds %d", rec.Events, len(all))
	t.Logf("%d acked before the backup, %d in it, %d acked in all", len(before), len(all), len(acked))

	// Appends after a restore go on from the restored log.
	res := appendOK(t, r, draft("after", `{}`))
	require.True(t, bytes.Compare(res[0].Event.Seq[:], all[len(all)-1].Seq[:]) > 0, "a new seq sorts after the restored ones")
}

func TestRestore_refusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644))
	err := Restore(dir, bytes.NewReader(nil), slog.New(slog.DiscardHandler))
	require.Error(t, err)
	require.Contains(t, err.Error(), "not empty")
	require.Contains(t, err.Error(), dir)
}

func TestCheck(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	dir, acked := damageImage(t)
	rep, err := Check(dir, quiet)
	require.NoError(t, err)
	require.Equal(t, uint64(len(acked)), rep.Events)
	require.Equal(t, uint64(len(acked)), rep.Committed)
	require.True(t, rep.HasRecord, "the image has a record")

	flipMiddle(t, oneFile(t, dir, ".sst"))
	_, err = Check(dir, quiet)
	require.ErrorIs(t, err, ErrDamaged)
	require.Contains(t, err.Error(), "000001.sst")

	dir, _ = damageImage(t)
	require.NoError(t, os.Remove(oneFile(t, dir, ".mem")))
	_, err = Check(dir, quiet)
	require.ErrorIs(t, err, ErrDataLoss)
	require.Contains(t, err.Error(), "200 acknowledged events are missing")
}

func TestCheck_inUse(t *testing.T) {
	_, dir := openTemp(t, Options{})
	_, err := Check(dir, slog.New(slog.DiscardHandler))
	require.True(t, errors.Is(err, ErrInUse), "want ErrInUse, got %v", err)
}

// TestOpen_acceptDataLoss opens a store that lost its WAL only with
// AcceptDataLoss, which logs the gap and rewrites the record so that the
// next plain Open works.
func TestOpen_acceptDataLoss(t *testing.T) {
	dir, _ := damageImage(t)
	remove(t, oneFile(t, dir, ".mem"))
	_, err := Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, ErrDataLoss)

	var logs bytes.Buffer
	s := openAt(t, dir, Options{AcceptDataLoss: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.Equal(t, 300, len(readAll(t, s, 100)))
	require.NoError(t, s.Close())
	require.Contains(t, logs.String(), "level=ERROR")
	require.Contains(t, logs.String(), "missing=200")

	s = openAt(t, dir, Options{})
	require.Equal(t, 300, len(readAll(t, s, 100)))
}

// TestOpen_recordWithoutData refuses a directory whose Badger files are
// gone but whose integrity record remains.
func TestOpen_recordWithoutData(t *testing.T) {
	dir, _ := damageImage(t)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != integrityFile {
			require.NoError(t, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	_, err = Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, ErrDataLoss)
	require.Contains(t, err.Error(), "500 events were committed")
}
