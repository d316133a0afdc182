package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eventgw/gateway/gateway/internal/diskspace"
)

// ErrNoSpace means the data directory is short of free space, so the store
// refuses new events (see SpaceGuard). The error wrapping it says how much
// is left and names storage.min_free_bytes.
var ErrNoSpace = errors.New("store: insufficient storage")

// SpaceGuard decides whether an append of some bytes may go ahead;
// *diskspace.Watcher is one. Admit is called on the request's goroutine
// before the request is queued for commit, and must not block.
type SpaceGuard interface {
	Admit(bytes int64) error
}

// SpaceNeeded returns the bytes of free disk that Badger may consume in
// the data directory at path without the store being asked first. Badger
// writes its WAL (.mem), value log (.vlog) and new tables (.sst) through
// memory maps of files created sparse at full size, and a write into a map
// finding the disk full kills the process with SIGBUS (see package
// diskspace). So the space must be there before the write. It counts:
//
//   - the unwritten part of every .mem and .vlog file, up to the size at
//     which Badger rotates it (MemTableSize, ValueLogFileSize);
//   - the next WAL and the table a full memtable flushes into (2 x
//     MemTableSize);
//   - the next value log file (ValueLogFileSize);
//   - compaction, which writes new tables before it deletes the old ones
//     (estimated at 2 x MemTableSize).
//
// The directory need not exist yet. It works on a closed store, so that
// serve can check before it opens one.
func SpaceNeeded(path string) (int64, error) {
	bo := badgerOptions(Options{Path: path})
	fixed := 4*bo.MemTableSize + bo.ValueLogFileSize
	entries, err := os.ReadDir(path)
	if errors.Is(err, os.ErrNotExist) {
		return fixed, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read data directory: %w", err)
	}
	var unwritten int64
	for _, e := range entries {
		var limit int64
		switch {
		case strings.HasSuffix(e.Name(), ".mem"):
			limit = bo.MemTableSize
		case strings.HasSuffix(e.Name(), ".vlog"):
			limit = bo.ValueLogFileSize
		default:
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted by a flush or a GC since ReadDir
		}
		if err != nil {
			return 0, fmt.Errorf("store: stat %s: %w", filepath.Join(path, e.Name()), err)
		}
		used, ok := diskspace.Allocated(fi)
		if !ok {
			// The platform cannot say what is written: assume nothing is.
			used = 0
		}
		if rest := min(fi.Size(), limit) - used; rest > 0 {
			unwritten += rest
		}
	}
	return fixed + unwritten, nil
}
