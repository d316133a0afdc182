package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// recordFsyncs makes y record the base name of every file it fsyncs.
func recordFsyncs(y *syncer) *[]string {
	var calls []string
	y.fsync = func(path string) error {
		calls = append(calls, filepath.Base(path))
		return fsyncPath(path)
	}
	return &calls
}

// TestSyncer_switches writes to a Badger with 1 MiB memtables and value
// log files, so that both switch files often, and syncs after every write.
// Each sync must fsync every file the write may have landed in (the newest
// before it through the newest after it) that still exists, value logs
// before WALs. badger.DB.Sync syncs only the newest of each, and misses
// the file Badger left.
func TestSyncer_switches(t *testing.T) {
	dir := t.TempDir()
	bo := badgerOptions(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)}).
		WithMemTableSize(1 << 20).WithValueLogFileSize(1 << 20)
	db, err := badger.Open(bo)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	y, err := newSyncer(dir)
	require.NoError(t, err)
	calls := recordFsyncs(y)
	exists := func(name string) bool { _, err := os.Stat(filepath.Join(dir, name)); return err == nil }

	memSwitches, vlogSwitches := 0, 0
	for i := range 150 {
		mem0, vlog0, err := y.list()
		require.NoError(t, err)
		values := i%10 != 9 // every tenth write has no value for the value log
		require.NoError(t, db.Update(func(txn *badger.Txn) error {
			if values {
				if err := txn.Set(fmt.Appendf(nil, "big-%d", i), bytes.Repeat([]byte{'v'}, 100<<10)); err != nil {
					return err
				}
			}
			return txn.Set(fmt.Appendf(nil, "small-%d", i), bytes.Repeat([]byte{'w'}, 20<<10))
		}))
		mem1, vlog1, err := y.list()
		require.NoError(t, err)

		*calls = nil
		require.NoError(t, y.sync(values))
		lastVlog, firstMem := -1, len(*calls)
		for j, c := range *calls {
			if filepath.Ext(c) == ".vlog" {
				lastVlog = j
			} else if j < firstMem {
				firstMem = j
			}
		}
		require.True(t, lastVlog < firstMem, "write %d: value logs are synced before WALs: %v", i, *calls)
		for id := mem0; id <= mem1; id++ {
			name := fmt.Sprintf("%05d.mem", id)
			require.True(t, slices.Contains(*calls, name) || !exists(name), "write %d: WAL %s not synced: %v", i, name, *calls)
		}
		if !values {
			require.Equal(t, -1, lastVlog, "write %d: a sync without values syncs no value log: %v", i, *calls)
			continue
		}
		for id := vlog0; id <= vlog1; id++ {
			name := fmt.Sprintf("%06d.vlog", id)
			require.True(t, slices.Contains(*calls, name), "write %d: value log %s not synced: %v", i, name, *calls)
		}
		memSwitches += mem1 - mem0
		vlogSwitches += vlog1 - vlog0
	}
	require.True(t, memSwitches >= 2 && vlogSwitches >= 2, "the test must see switches: %d WAL, %d value log", memSwitches, vlogSwitches)
}

// TestSyncer_walGap: a flush deletes a WAL, and the WAL after it is newer
// than the one the last sync saw; looking at one id after the other stops
// at the gap, so a changed MANIFEST makes the syncer list the directory.
func TestSyncer_walGap(t *testing.T) {
	dir := t.TempDir()
	touch := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	touch(badger.ManifestFilename, "m")
	touch("00001.mem", "")
	y, err := newSyncer(dir)
	require.NoError(t, err)
	calls := recordFsyncs(y)

	// Badger fills 1 and 2, flushes them (the MANIFEST grows) and deletes
	// 2, while a reader still holds 1; 3 is the active WAL.
	touch("00002.mem", "")
	touch("00003.mem", "")
	require.NoError(t, os.Remove(filepath.Join(dir, "00002.mem")))
	touch(badger.ManifestFilename, "m+")
	require.NoError(t, y.sync(false))
	require.True(t, slices.Contains(*calls, "00003.mem"), "the active WAL behind the gap must be synced: %v", *calls)

	// Without a flush there are no gaps, and no listing is needed.
	*calls = nil
	touch("00004.mem", "")
	require.NoError(t, y.sync(false))
	require.Equal(t, "00003.mem 00004.mem", strings.Join(*calls, " "))
}

// TestCollectGarbage_syncsBeforeDelete: value log GC moves the live values
// of mostly stale files into the newest one and deletes the old files.
// The sync that makes the moved values durable must come while the old
// files are still there, and they go only after it.
func TestCollectGarbage_syncsBeforeDelete(t *testing.T) {
	dir := t.TempDir()
	bo := badgerOptions(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)}).
		WithMemTableSize(1 << 20).WithValueLogFileSize(1 << 20).
		// Close compacts level 0, which counts what is stale in each
		// value log file: GC has something to pick after a reopen.
		WithCompactL0OnClose(true)
	open := func() *badger.DB {
		db, err := badger.Open(bo)
		require.NoError(t, err)
		return db
	}
	value := bytes.Repeat([]byte{'v'}, 100<<10)
	db := open()
	for i := range 40 {
		require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(fmt.Appendf(nil, "k%02d", i), value) }))
	}
	require.NoError(t, db.Close())
	db = open()
	for i := range 40 {
		if i%5 != 0 { // one in five stays live, and GC must move it
			require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Delete(fmt.Appendf(nil, "k%02d", i)) }))
		}
	}
	require.NoError(t, db.Close())
	db = open()
	t.Cleanup(func() { _ = db.Close() })
	vlogs := func() []string {
		m, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
		require.NoError(t, err)
		return m
	}
	before := vlogs()

	var atSync []string
	rewrote, err := collectGarbage(db, func() error { atSync = vlogs(); return nil })
	require.NoError(t, err)
	require.True(t, rewrote, "the test must make GC rewrite a file")
	after := vlogs()
	require.True(t, len(after) < len(before), "GC must delete a file: before %v, after %v", before, after)
	for _, f := range before {
		if !slices.Contains(after, f) {
			require.True(t, slices.Contains(atSync, f), "%s was deleted before the sync (files at the sync: %v)", filepath.Base(f), atSync)
		}
	}
	for i := 0; i < 40; i += 5 {
		require.NoError(t, db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(fmt.Appendf(nil, "k%02d", i))
			if err != nil {
				return err
			}
			return item.Value(func(v []byte) error {
				require.True(t, bytes.Equal(v, value), "k%02d moved intact", i)
				return nil
			})
		}))
	}
}
