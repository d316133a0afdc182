package store

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// damageImage builds a data directory as a crash leaves it, with every kind
// of Badger file in it, and returns its path and the events acknowledged
// into it:
//
//  1. 300 events are appended with Sync and the store is closed. Close
//     flushes the memtable, so those events end up in an .sst.
//  2. The store is opened again, 200 more events are appended with Sync and
//     the integrity record is brought up to date. The directory is copied
//     while the store is still open: the copy is what a kill -9 at that
//     moment leaves behind, the 200 events living only in the WAL (.mem).
//
// Copying an open directory is safe here because Sync has already written
// every acknowledged byte (Badger's WAL is an mmap'd file, and read sees the
// page cache), and nothing else writes between the sync and the copy.
func damageImage(t *testing.T) (string, []event.Event) {
	t.Helper()
	dir := t.TempDir()
	s := openAt(t, dir, Options{Sync: true})
	var acked []event.Event
	appendN := func(n int) {
		for range n / 10 {
			batch := make([]Draft, 10)
			for i := range batch {
				batch[i] = draft("damage.test", fmt.Sprintf(`{"n":%d,"pad":%q}`, len(acked)+i, strings.Repeat("x", 200)))
			}
			for _, res := range appendOK(t, s, batch...) {
				acked = append(acked, res.Event)
			}
		}
	}
	appendN(300)
	require.NoError(t, s.Close())
	s = openAt(t, dir, Options{Sync: true})
	appendN(200)
	flushIntegrity(t, s)
	image := t.TempDir()
	copyDir(t, dir, image)
	require.NoError(t, s.Close())
	return image, acked
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		src, err := os.Open(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		dst, err := os.Create(filepath.Join(to, e.Name()))
		require.NoError(t, err)
		_, err = io.Copy(dst, src)
		require.NoError(t, err)
		require.NoError(t, src.Close())
		require.NoError(t, dst.Close())
	}
}

// oneFile returns the path of the only file in dir with the suffix ext, or
// of the largest one when there are several.
func oneFile(t *testing.T, dir, ext string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	require.NoError(t, err)
	require.True(t, len(matches) > 0, "no %s file in %s", ext, dir)
	best, size := "", int64(-1)
	for _, m := range matches {
		fi, err := os.Stat(m)
		require.NoError(t, err)
		if fi.Size() > size {
			best, size = m, fi.Size()
		}
	}
	return best
}

// Ways to damage a file.
func flipMiddle(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, len(b) >= 16, "%s is too small to damage (%d bytes)", path, len(b))
	mid := len(b) / 2
	for i := mid; i < mid+8; i++ {
		b[i] ^= 0xff
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()/2))
}

func truncateTo(n int64) func(*testing.T, string) {
	return func(t *testing.T, path string) { require.NoError(t, os.Truncate(path, n)) }
}

func remove(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }

func garbage(t *testing.T, path string) {
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("garbage!"), int(fi.Size()/8)+1), 0o644))
}

// zeroTail writes zeros over the second half of the file, as a file system
// does for blocks allocated but never written before a power cut.
func zeroTail(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	clear(b[len(b)/2:])
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// inWritten applies damage to the part of a WAL that holds entries. Badger
// preallocates a WAL at twice the memtable size and fills it from the
// start, so most of the file is zeros: the damage would miss the data.
// inWritten cuts the file after its last non-zero byte, damages that, and
// pads it back with zeros.
func inWritten(damage func(*testing.T, string)) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		n := len(bytes.TrimRight(b, "\x00"))
		require.NoError(t, os.Truncate(path, int64(n)))
		damage(t, path)
		require.NoError(t, os.Truncate(path, int64(len(b))))
	}
}

// TestOpen_damagedFiles damages one file of a data directory per case and
// reopens it. Either every acknowledged event is there, or Open refuses with
// an error that names the damage: it never opens with events missing.
func TestOpen_damagedFiles(t *testing.T) {
	cases := []struct {
		name   string
		file   string // suffix of the file to damage
		damage func(*testing.T, string)
		want   []string // what a refusal must mention
	}{
		{"manifest deleted", "MANIFEST", remove, []string{"MANIFEST"}},
		{"manifest truncated", "MANIFEST", truncateTo(10), []string{"MANIFEST"}},
		{"manifest garbage", "MANIFEST", garbage, []string{"MANIFEST"}},
		{"sst flipped", ".sst", flipMiddle, []string{".sst"}},
		{"sst truncated", ".sst", truncateHalf, []string{".sst"}},
		{"sst deleted", ".sst", remove, []string{".sst"}},
		{"wal flipped", ".mem", inWritten(flipMiddle), []string{"missing"}},
		{"wal truncated", ".mem", inWritten(truncateHalf), []string{"missing"}},
		{"wal deleted", ".mem", remove, []string{"missing"}},
		{"wal zeros", ".mem", inWritten(zeroTail), []string{"missing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, acked := damageImage(t)
			path := oneFile(t, dir, tc.file)
			tc.damage(t, path)

			s, err := openDamaged(dir)
			if err != nil {
				for _, want := range append([]string{dir}, tc.want...) {
					require.Contains(t, err.Error(), want, "the refusal must name the damage")
				}
				t.Logf("refused: %v", err)
				return
			}
			defer s.Close()
			got, err := readAllErr(s)
			require.NoError(t, err, "the store opened, so reading it must work")
			require.Equal(t, len(acked), len(got), "the store opened with acknowledged events missing")
			for i := range acked {
				requireSameEvent(t, acked[i], got[i])
			}
		})
	}
}

// openDamaged opens dir, turning a panic into an error so that one case
// cannot stop the others.
func openDamaged(dir string) (s *Store, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC in Open: %v", r)
		}
	}()
	return Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
}

// readAllErr is readAll that returns the error instead of failing.
func readAllErr(s *Store) (out []event.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC in ReadAfter: %v", r)
		}
	}()
	var after event.Seq
	for {
		evs, err := s.ReadAfter(context.Background(), after, 100)
		if err != nil {
			return out, err
		}
		out = append(out, evs...)
		if len(evs) < 100 {
			return out, nil
		}
		after = evs[len(evs)-1].Seq
	}
}
