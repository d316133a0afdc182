package diskspace

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// disk is a filesystem and a store whose figures a test sets.
type disk struct {
	mu      sync.Mutex
	total   uint64
	avail   uint64
	needed  int64
	failing error
}

func (d *disk) statfs(string) (Usage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return Usage{Total: d.total, Avail: d.avail}, d.failing
}

func (d *disk) need() (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.needed, nil
}

func (d *disk) set(avail uint64, needed int64) {
	d.mu.Lock()
	d.avail, d.needed = avail, needed
	d.mu.Unlock()
}

func newWatcher(t *testing.T, d *disk, minFree int64, log *bytes.Buffer) *Watcher {
	t.Helper()
	w, err := New(Options{
		Dir: "/data", MinFree: minFree, Statfs: d.statfs, Needed: d.need,
		Logger: slog.New(slog.NewTextHandler(log, nil)),
	})
	require.NoError(t, err)
	return w
}

const mib = 1 << 20

func TestMinFreeFor(t *testing.T) {
	require.Equal(t, int64(256*mib), MinFreeFor(1<<40))     // 2% of 1 TiB is more than 256 MiB
	require.Equal(t, int64(2*mib), MinFreeFor(100*mib))     // 2% of 100 MiB
	require.Equal(t, int64(256*mib), MinFreeFor(12800*mib)) // exactly 2%
}

func TestWatcher_admit(t *testing.T) {
	var log bytes.Buffer
	d := &disk{total: 1 << 40}
	d.set(1000*mib, 300*mib) // 700 MiB usable
	w := newWatcher(t, d, 500*mib, &log)
	require.NoError(t, w.Err())

	// Admitted bytes count until the next poll: 200 MiB fit, one more
	// byte does not, and a refusal reserves nothing.
	require.NoError(t, w.Admit(150*mib))
	require.NoError(t, w.Admit(50*mib))
	err := w.Admit(1)
	var low *LowError
	require.True(t, errors.As(err, &low), "Admit past the margin: %v", err)
	require.Equal(t, int64(500*mib), low.Free)
	require.Equal(t, int64(500*mib), low.MinFree)
	require.NoError(t, w.Err(), "refusals reserve nothing: exactly the margin is left")

	// The poll sees the bytes on disk instead of the reservations.
	d.set(900*mib, 300*mib)
	require.NoError(t, w.poll())
	require.NoError(t, w.Admit(100*mib))
	require.True(t, w.Admit(1) != nil, "the margin holds after a poll")
}

func TestWatcher_lowAndBack(t *testing.T) {
	var log bytes.Buffer
	d := &disk{total: 1 << 40}
	d.set(1000*mib, 300*mib)
	w := newWatcher(t, d, 500*mib, &log)

	// The store's reserve grows (a new value log): usable drops below the
	// margin although statfs did not change.
	d.set(1000*mib, 600*mib)
	require.NoError(t, w.poll())
	err := w.Err()
	var low *LowError
	require.True(t, errors.As(err, &low), "Err below the margin: %v", err)
	msg := err.Error()
	for _, want := range []string{"/data", "400.0 MiB usable", "1000.0 MiB free", "600.0 MiB", "storage.min_free_bytes (500.0 MiB)"} {
		require.True(t, strings.Contains(msg, want), "message lacks %q: %s", want, msg)
	}
	require.True(t, w.Admit(1) != nil, "Admit below the margin")
	require.NoError(t, w.poll()) // still low: logged once
	require.Equal(t, 1, strings.Count(log.String(), "refusing new events"), "log:\n%s", log.String())

	// Space comes back.
	d.set(2000*mib, 600*mib)
	require.NoError(t, w.poll())
	require.NoError(t, w.Err())
	require.NoError(t, w.Admit(mib))
	require.Equal(t, 1, strings.Count(log.String(), "accepting new events"), "log:\n%s", log.String())
}

func TestWatcher_defaultMargin(t *testing.T) {
	var log bytes.Buffer
	d := &disk{total: 100 * mib}
	d.set(3*mib, 0)
	w := newWatcher(t, d, 0, &log) // 2% of 100 MiB
	require.NoError(t, w.Err())
	require.NoError(t, w.Admit(mib))
	require.True(t, w.Admit(1) != nil, "the 2 MiB default margin")
}

func TestWatcher_statfsFails(t *testing.T) {
	d := &disk{total: 1 << 40, failing: errors.New("boom")}
	_, err := New(Options{Dir: "/data", Statfs: d.statfs})
	require.True(t, err != nil && strings.Contains(err.Error(), "/data") && strings.Contains(err.Error(), "boom"), "New: %v", err)

	// Later failures keep the last reading.
	var log bytes.Buffer
	d.failing = nil
	d.set(1000*mib, 0)
	w := newWatcher(t, d, 500*mib, &log)
	d.mu.Lock()
	d.failing = errors.New("boom")
	d.mu.Unlock()
	require.True(t, w.poll() != nil, "poll reports the failure")
	require.NoError(t, w.Admit(100*mib))
}

// TestWatcher_start polls on its own goroutine until Close, with the real
// clock: the state changes within the hang guard.
func TestWatcher_start(t *testing.T) {
	var log bytes.Buffer
	d := &disk{total: 1 << 40}
	d.set(1000*mib, 0)
	w, err := New(Options{Dir: "/data", MinFree: 500 * mib, Interval: time.Millisecond, Statfs: d.statfs, Needed: d.need, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	w.Start()
	defer w.Close()
	d.set(100*mib, 0)
	require.Eventually(t, "the watcher to see the disk fill", func() bool { return w.Err() != nil })
	w.Close()
	w.Close() // twice is fine
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 12 * mib: "12.0 MiB", -5 * mib: "-5.0 MiB", 3 << 30: "3.0 GiB"} {
		require.Equal(t, want, FormatBytes(n))
	}
}

// TestAllocated: a sparse file occupies less than its size.
func TestAllocated(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, f.Truncate(64*mib))
	_, err = f.WriteAt(make([]byte, mib), 0)
	require.NoError(t, err)
	fi, err := f.Stat()
	require.NoError(t, err)
	n, ok := Allocated(fi)
	require.True(t, ok, "Allocated on %s", runtime.GOOS)
	require.True(t, n >= mib && n < 8*mib, "a 64 MiB file with 1 MiB written occupies %d bytes", n)
}
