package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// syncer makes the writes Badger has taken so far durable. Badger runs
// without SyncWrites (badgerOptions), so a write is on disk only after a
// sync, and badger.DB.Sync does not cover every write: in Badger v4.9 it
// msyncs the WAL of the active memtable, then the newest value log file,
// and nothing else. Badger moves on to a new memtable (a new NNNNN.mem
// WAL) when one is full, and to a new value log file (NNNNNN.vlog) past
// 64 MiB, and without SyncWrites it does not sync the file it leaves
// (logFile.doneWriting). A write that landed in the old file just before
// the switch, this commit's or another writer's, is missed by the next
// DB.Sync: the old WAL becomes durable only once its memtable has been
// flushed to a table (which Badger syncs), the old value log not until
// Close. And DB.Sync syncs the WAL before the value log, so a crash between
// the two leaves WAL entries pointing at values that never reached the
// disk: events that cannot be read back.
//
// So the syncer does not call DB.Sync. It fsyncs Badger's files itself, by
// path: on Linux, fsync of any descriptor of a file writes back the pages
// dirtied through Badger's shared mapping, as msync does. Badger numbers
// both kinds of file consecutively and never writes to one again once it
// has moved on, so a sync fsyncs every file from the newest one the last
// sync saw (which may have taken writes since) through the newest one now:
//
//   - with values (the writes to cover include values over
//     valueThreshold, which live in the value log), the value log files
//     first, so that no WAL entry reaches the disk before its value;
//   - then the WALs, oldest first.
//
// With no switch since the last sync that is one fsync (two with values)
// and three stats. A file that is gone needs no sync: a WAL goes once its
// memtable is flushed to a synced table, a value log once value log GC has
// rewritten its live values into newer files, which CollectGarbage syncs
// before it lets Badger delete the old one (the store is the only caller
// of RunValueLogGC, and never calls DropAll or DropPrefix).
//
// The newest WAL is found by looking for the next id, then the one after,
// until one is missing. That is exact only if no WAL newer than the last
// one seen has been deleted meanwhile, which takes a flush, and every flush
// appends to the MANIFEST (or rewrites it). So when the MANIFEST changed
// since the last sync began, the syncer lists the directory instead.
//
// Syncs are serialised; each covers every write that finished before it
// started (values only with values). sync is safe for concurrent use.
type syncer struct {
	dir string
	// fsync syncs one file by path; tests replace it to see what is synced,
	// and in which order.
	fsync func(path string) error

	mu sync.Mutex
	// open keeps the files the last sync synced open, so a sync is one
	// fdatasync per file, not an open, an fsync and a close.
	open     map[string]*os.File
	mem      int         // the newest WAL seen by the last sync
	vlog     int         // the newest value log file seen by the last sync with values
	manifest os.FileInfo // the MANIFEST when the last sync began (nil: none)
}

// newSyncer starts from the newest WAL and value log in dir, where Badger
// has just been opened.
func newSyncer(dir string) (*syncer, error) {
	y := &syncer{dir: dir, open: make(map[string]*os.File)}
	y.fsync = y.datasync
	y.manifest, _ = os.Stat(y.manifestPath())
	mem, vlog, err := y.list()
	if err != nil {
		return nil, err
	}
	y.mem, y.vlog = mem, vlog
	return y, nil
}

// memPath, vlogPath and manifestPath are Badger's file names (memtable.go
// mtFilePath, value.go vlogFilePath, manifest.go ManifestFilename).
func (y *syncer) memPath(id int) string  { return filepath.Join(y.dir, fmt.Sprintf("%05d.mem", id)) }
func (y *syncer) vlogPath(id int) string { return filepath.Join(y.dir, fmt.Sprintf("%06d.vlog", id)) }
func (y *syncer) manifestPath() string   { return filepath.Join(y.dir, badger.ManifestFilename) }

// list returns the highest WAL and value log ids in the directory.
func (y *syncer) list() (mem, vlog int, err error) {
	entries, err := os.ReadDir(y.dir)
	if err != nil {
		return 0, 0, fmt.Errorf("store: sync: list %q: %w", y.dir, err)
	}
	for _, e := range entries {
		if id, ok := fileID(e.Name(), ".mem"); ok {
			mem = max(mem, id)
		} else if id, ok := fileID(e.Name(), ".vlog"); ok {
			vlog = max(vlog, id)
		}
	}
	return mem, vlog, nil
}

func fileID(name, ext string) (int, bool) {
	if !strings.HasSuffix(name, ext) {
		return 0, false
	}
	id, err := strconv.Atoi(strings.TrimSuffix(name, ext))
	return id, err == nil
}

// sync makes durable every write to a WAL that finished before it began,
// and with values every write to the value log too.
func (y *syncer) sync(values bool) error {
	y.mu.Lock()
	defer y.mu.Unlock()
	began, _ := os.Stat(y.manifestPath())
	mem := newest(y.mem, y.memPath)
	if now, _ := os.Stat(y.manifestPath()); !sameSize(y.manifest, now) {
		// A flush since the last sync began may have deleted a WAL newer
		// than y.mem, and the look above stopped at the gap.
		listed, _, err := y.list()
		if err != nil {
			return err
		}
		mem = max(mem, listed)
	}
	y.manifest = began
	if values {
		vlog := newest(y.vlog, y.vlogPath)
		if err := y.fsyncRange(y.vlog, vlog, y.vlogPath); err != nil {
			return err
		}
		y.vlog = vlog
	}
	if err := y.fsyncRange(y.mem, mem, y.memPath); err != nil {
		return err
	}
	y.mem = mem
	y.closeOlder()
	return nil
}

// datasync syncs the file at path through a descriptor kept open. It is
// fdatasync, not fsync, on Linux: Badger's WAL and value log files are
// created at their full size and written through a mapping, so only their
// data changes, and fdatasync skips the inode times that fsync would also
// journal (measured: see BENCHMARKS.md, "Delivery engine").
func (y *syncer) datasync(path string) error {
	f := y.open[path]
	if f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			return err
		}
		y.open[path] = f
	}
	return datasync(f)
}

// closeOlder closes the kept descriptors of files older than the newest
// WAL and value log: Badger writes to a file no more once it has moved on.
func (y *syncer) closeOlder() {
	keep := map[string]bool{y.memPath(y.mem): true, y.vlogPath(y.vlog): true}
	for path, f := range y.open {
		if !keep[path] {
			_ = f.Close()
			delete(y.open, path)
		}
	}
}

// close closes every kept descriptor.
func (y *syncer) close() {
	y.mu.Lock()
	defer y.mu.Unlock()
	for path, f := range y.open {
		_ = f.Close()
		delete(y.open, path)
	}
}

// sameSize reports whether the MANIFEST is the same file, of the same size:
// Badger only appends to it, or replaces it with a rewritten one.
func sameSize(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size()
}

// newest returns the highest id, from id on, that has a file, looking at
// one id after the other.
func newest(id int, path func(int) string) int {
	for {
		if _, err := os.Stat(path(id + 1)); err != nil {
			return id
		}
		id++
	}
}

// fsyncRange fsyncs the files from through to, oldest first, skipping the
// ones that are gone (see syncer).
func (y *syncer) fsyncRange(from, to int, path func(int) string) error {
	for id := from; id <= to; id++ {
		if err := y.fsync(path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: sync: %w", err)
		}
	}
	return nil
}

func fsyncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
