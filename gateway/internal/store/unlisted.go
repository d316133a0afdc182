package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// keptTablesDir is the subdirectory of the data directory where Open keeps
// tables that the MANIFEST does not list, one subdirectory per start.
const keptTablesDir = "gateway-kept-tables"

// keepUnlisted links names, the tables dir's MANIFEST does not list
// (dataDir.unlisted), into a new keptTablesDir subdirectory before Badger
// deletes them, and returns that subdirectory ("" when there are none).
// Open removes it once the store has recovered every event its integrity
// record counts: the tables were a crash's leftovers. Otherwise it stays,
// for the operator.
func keepUnlisted(dir string, names []string) (kept string, err error) {
	if len(names) == 0 {
		return "", nil
	}
	kept = filepath.Join(dir, keptTablesDir, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.MkdirAll(kept, 0o700); err != nil {
		return "", fmt.Errorf("store: keep tables the MANIFEST does not list: %w", err)
	}
	for _, name := range names {
		from, to := filepath.Join(dir, name), filepath.Join(kept, name)
		if os.Link(from, to) == nil {
			continue
		}
		if err := copyFile(from, to); err != nil {
			return "", fmt.Errorf("store: keep table %s, which the MANIFEST does not list, in %q: %w", name, kept, err)
		}
	}
	return kept, nil
}

// keptNote is added to a refusal when tables were kept aside: they may hold
// the events that are missing.
func keptNote(dir string) string {
	entries, err := os.ReadDir(filepath.Join(dir, keptTablesDir))
	if err != nil || len(entries) == 0 {
		return ""
	}
	return fmt.Sprintf("; tables that the MANIFEST no longer listed (it may have been cut short) are kept in %q and may hold them",
		filepath.Join(dir, keptTablesDir))
}

// dropKept removes the tables keepUnlisted kept when the store recovered
// every event rec counts: they were a crash's leftovers, whose data Badger
// holds elsewhere. Otherwise (AcceptDataLoss) it leaves them and says where.
func (s *Store) dropKept(kept string, names []string, rec *integrityRecord) {
	if kept == "" {
		return
	}
	if rec != nil && s.events < rec.Events {
		s.opts.Logger.Error("store: tables the MANIFEST did not list are kept; they may hold the missing events",
			"dir", kept, "tables", strings.Join(names, ","))
		return
	}
	s.opts.Logger.Info("store: removed tables the MANIFEST did not list (left by a crash during a flush or compaction)",
		"tables", strings.Join(names, ","))
	if err := os.RemoveAll(kept); err != nil {
		s.opts.Logger.Warn("store: remove kept tables", "dir", kept, "err", err)
	}
	_ = os.Remove(filepath.Dir(kept)) // only if empty
}
