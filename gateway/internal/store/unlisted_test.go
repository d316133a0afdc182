package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// threeTables builds a cleanly closed data directory with three tables:
// each Close flushes the memtable into a new level-0 table, and three is
// below the level-0 count that starts a compaction.
func threeTables(t *testing.T) (string, int) {
	t.Helper()
	dir := t.TempDir()
	n := 0
	for range 3 {
		s := openAt(t, dir, Options{Sync: true})
		for range 10 {
			batch := make([]Draft, 10)
			for i := range batch {
				batch[i] = draft("unlisted.test", fmt.Sprintf(`{"n":%d}`, n))
				n++
			}
			appendOK(t, s, batch...)
		}
		require.NoError(t, s.Close())
	}
	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	require.NoError(t, err)
	require.Equal(t, 3, len(ssts))
	return dir, n
}

// cutManifest cuts dir's MANIFEST at the start of a change set, so that it
// still replays but no longer lists every table: what a MANIFEST cut short in
// the middle looks like. A MANIFEST is an 8-byte header and then change sets,
// each a 4-byte length, a 4-byte checksum and the length's bytes.
func cutManifest(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "MANIFEST")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	all, err := readManifest(dir)
	require.NoError(t, err)
	var starts []int
	for off := 8; off+8 <= len(b); off += 8 + int(binary.BigEndian.Uint32(b[off:])) {
		starts = append(starts, off)
	}
	for i := len(starts) - 1; i > 0; i-- {
		require.NoError(t, os.WriteFile(path, b[:starts[i]], 0o644))
		listed, err := readManifest(dir)
		if err == nil && len(listed) > 0 && len(listed) < len(all) {
			return
		}
	}
	t.Fatalf("no cut of the MANIFEST lists some but not all of its %d tables", len(all))
}

// tableBytes maps every .sst file under dir, at any depth, to its content.
func tableBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".sst" {
			return err
		}
		b, err := os.ReadFile(path)
		out[filepath.Base(path)] = b
		return err
	})
	require.NoError(t, err)
	return out
}

// TestOpen_unlistedTablesKept cuts a MANIFEST short in the middle, so that
// it lists two of three tables. Badger deletes a table its MANIFEST does not
// list (a compaction's leftover, as it takes it), so the events in it would
// be gone even though Open refuses afterwards. Open must refuse, or open
// with every event, and in both cases every table must still exist.
func TestOpen_unlistedTablesKept(t *testing.T) {
	dir, n := threeTables(t)
	before := tableBytes(t, dir)
	cutManifest(t, dir)

	s, err := openDamaged(dir)
	after := tableBytes(t, dir)
	for name, b := range before {
		require.True(t, bytes.Equal(b, after[name]), "table %s was destroyed by Open (err: %v)", name, err)
	}
	if err != nil {
		require.Contains(t, err.Error(), "MANIFEST")
		t.Logf("refused: %v", err)
		return
	}
	got, err := readAllErr(s)
	require.NoError(t, s.Close())
	require.NoError(t, err)
	require.Equal(t, n, len(got), "the store opened with acknowledged events missing")
}

// TestCheck_leavesDirUnchanged runs Check on a directory whose MANIFEST
// lists two of its three tables: Check must not change the directory.
func TestCheck_leavesDirUnchanged(t *testing.T) {
	dir, _ := threeTables(t)
	cutManifest(t, dir)
	before := tableBytes(t, dir)

	_, err := Check(dir, slog.New(slog.DiscardHandler))
	t.Logf("check: %v", err)
	after := tableBytes(t, dir)
	require.Equal(t, len(before), len(after), "Check changed the directory: tables before and after")
	for name, b := range before {
		require.True(t, bytes.Equal(b, after[name]), "table %s was destroyed by Check", name)
	}
}

// TestOpen_leftoverTableDropped opens a directory with a table its MANIFEST
// does not list but nothing missing, as a crash in a compaction leaves it:
// the store opens, and the table kept aside is removed again.
func TestOpen_leftoverTableDropped(t *testing.T) {
	dir, n := threeTables(t)
	b, err := os.ReadFile(filepath.Join(dir, "000001.sst"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "000042.sst"), b, 0o644))

	rep, err := Check(dir, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, "000042.sst", strings.Join(rep.Unlisted, ","))
	_, err = os.Stat(filepath.Join(dir, "000042.sst"))
	require.NoError(t, err, "Check leaves the directory as it is")

	s := openAt(t, dir, Options{})
	require.Equal(t, n, len(readAll(t, s, 100)))
	_, err = os.Stat(filepath.Join(dir, keptTablesDir))
	require.True(t, os.IsNotExist(err), "the kept table is removed once nothing is missing: %v", err)
}

// TestCheck_inUseBeforeReading runs Check on a running store's directory at
// a moment its MANIFEST does not replay (as while Badger rewrites it): the
// answer is that the directory is in use, not that it is damaged.
func TestCheck_inUseBeforeReading(t *testing.T) {
	s, dir := openTemp(t, Options{Sync: true})
	appendOK(t, s, draft("a", `{}`))
	path := filepath.Join(dir, "MANIFEST")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("rewriting"), 0o644))
	defer func() { require.NoError(t, os.WriteFile(path, orig, 0o644)) }()

	_, err = Check(dir, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, ErrInUse)
}

// TestOpen_inUseTouchesNothing opens a running store's directory a second
// time, at a moment it holds a table its MANIFEST does not list yet (a
// compaction's output) and a MANIFEST being rewritten: the answer is
// ErrInUse, and nothing is written into the directory.
func TestOpen_inUseTouchesNothing(t *testing.T) {
	s, dir := openTemp(t, Options{Sync: true})
	appendOK(t, s, draft("a", `{}`))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "000099.sst"), []byte("being written"), 0o644))

	_, err := Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, ErrInUse)
	_, statErr := os.Stat(filepath.Join(dir, keptTablesDir))
	require.True(t, os.IsNotExist(statErr), "Open wrote %s into a running store's directory", keptTablesDir)

	path := filepath.Join(dir, "MANIFEST")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("rewriting"), 0o644))
	defer func() { require.NoError(t, os.WriteFile(path, orig, 0o644)) }()
	_, err = Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.ErrorIs(t, err, ErrInUse)
}
