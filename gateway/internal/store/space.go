package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
//     which Badger rotates it (MemTableSize, ValueLogFileSize), or the
//     whole of those sizes when no such file exists yet;
//   - the next WAL and the table a full memtable flushes into (2 x
//     MemTableSize);
//   - the next value log file (ValueLogFileSize);
//   - compaction, which writes new tables before it deletes the old ones:
//     a merge of a full level 0 (NumLevelZeroTables memtable flushes) into
//     level 1 (BaseLevelSize). A test filling a tmpfs without this term
//     died with SIGBUS in table.CreateTable under subcompact.
//
// The directory need not exist yet. It works on a closed store, so that
// serve can check before it opens one.
func SpaceNeeded(path string) (int64, error) {
	bo := badgerOptions(Options{Path: path})
	compaction := int64(bo.NumLevelZeroTables)*bo.MemTableSize + bo.BaseLevelSize
	// The next WAL, a flush, the next value log, and compaction.
	need := 2*bo.MemTableSize + bo.ValueLogFileSize + compaction
	limits := map[string]int64{".mem": bo.MemTableSize, ".vlog": bo.ValueLogFileSize}
	seen := make(map[string]bool, len(limits))
	entries, err := os.ReadDir(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("store: read data directory: %w", err)
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		limit, ok := limits[ext]
		if !ok {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted by a flush or a GC since ReadDir
		}
		if err != nil {
			return 0, fmt.Errorf("store: stat %s: %w", filepath.Join(path, e.Name()), err)
		}
		seen[ext] = true
		// Where the platform cannot say what is written, assume nothing is.
		used, _ := diskspace.Allocated(fi)
		if rest := min(fi.Size(), limit) - used; rest > 0 {
			need += rest
		}
	}
	// A store not open yet has no current WAL or value log; Open creates
	// them empty, so count them whole, and the answer is the same before
	// and after Open.
	for ext, limit := range limits {
		if !seen[ext] {
			need += limit
		}
	}
	return need, nil
}
