package store

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestIntegrity_recordFollowsCommits: the recorder's goroutine brings the
// record up to the committed count on its own, synced or not, and Close
// writes the final count.
func TestIntegrity_recordFollowsCommits(t *testing.T) {
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			s, dir := openTemp(t, Options{Sync: sync})
			rec, err := readIntegrity(dir)
			require.NoError(t, err)
			require.True(t, rec != nil && rec.Events == 0, "Open writes the record of a new store: %+v", rec)
			var last Appended
			for i := range 20 {
				last = appendOK(t, s, draft("a", fmt.Sprintf(`{"i":%d}`, i)))[0]
			}
			require.Eventually(t, "the record to count 20 events", func() bool {
				rec, err := readIntegrity(dir)
				return err == nil && rec.Events == 20 && rec.LastSeq == last.Event.Seq.String()
			})
			appendOK(t, s, draft("a", `{}`))
			require.NoError(t, s.Close())
			rec, err = readIntegrity(dir)
			require.NoError(t, err)
			require.Equal(t, uint64(21), rec.Events)
			leftovers, err := filepath.Glob(filepath.Join(dir, integrityFile+".tmp*"))
			require.NoError(t, err)
			require.Equal(t, 0, len(leftovers))
		})
	}
}

// TestIntegrity_garbageRecord: a record that does not parse is refused,
// naming the file; AcceptDataLoss replaces it.
func TestIntegrity_garbageRecord(t *testing.T) {
	s, dir := openTemp(t, Options{})
	appendOK(t, s, draft("a", `1`))
	require.NoError(t, s.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, integrityFile), []byte("{garbage"), 0o644))

	_, err := Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, ErrDamaged)
	require.Contains(t, err.Error(), integrityFile)

	s = openAt(t, dir, Options{AcceptDataLoss: true})
	require.NoError(t, s.Close())
	rec, err := readIntegrity(dir)
	require.NoError(t, err)
	require.Equal(t, uint64(1), rec.Events)
}

// flushIntegrity brings the integrity record up to date at once, as the
// recorder's goroutine does within integrityInterval.
func flushIntegrity(t *testing.T, s *Store) {
	t.Helper()
	require.NoError(t, s.rec.flush(true))
}

// TestIntegrity_noteDoesNotWaitForWrite holds a record write open (a slow
// disk) and appends: the committer only publishes its count to the
// recorder, so the append must not wait for the file.
func TestIntegrity_noteDoesNotWaitForWrite(t *testing.T) {
	s, _ := openTemp(t, Options{Sync: true})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.rec.wmuForTest(func() {
		s.rec.write = func(dir string, rec integrityRecord) error {
			once.Do(func() { close(entered) })
			<-release
			return writeIntegrity(dir, rec)
		}
	})
	defer close(release)
	appendOK(t, s, draft("a", `{}`)) // wakes the recorder, which blocks in write
	<-entered

	done := make(chan struct{})
	go func() {
		defer close(done)
		appendOK(t, s, draft("a", `{}`))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // an append takes milliseconds
		t.Fatal("an append waited for the integrity record's file write")
	}
}

// wmuForTest runs f under the lock that flush holds while it writes.
func (r *recorder) wmuForTest(f func()) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	f()
}
