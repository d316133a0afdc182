package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// keptTablesDir is the subdirectory of the data directory where Open keeps
// tables that the MANIFEST does not list, one subdirectory per start.
const keptTablesDir = "gateway-kept-tables"

// unlistedTables returns the .sst files in dir that its MANIFEST does not
// list. Badger deletes them when it opens dir, even read-only, taking them
// for what a crash in a flush or a compaction leaves behind. They can also be
// the tables of a MANIFEST cut short in the middle, and then they hold
// acknowledged events. With no MANIFEST there is nothing to compare with
// (checkDataDir has refused such a directory already).
func unlistedTables(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return nil, nil
	}
	listed, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	in := make(map[uint64]bool, len(listed))
	for _, id := range listed {
		in[id] = true
	}
	ssts, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, path := range ssts {
		name := filepath.Base(path)
		id, err := strconv.ParseUint(strings.TrimSuffix(name, ".sst"), 10, 64)
		if err == nil && !in[id] {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// keepUnlisted links the tables dir's MANIFEST does not list into a new
// keptTablesDir subdirectory before Badger deletes them, and returns that
// subdirectory ("" when every table is listed). Open removes it once the
// store has recovered every event its integrity record counts: the tables
// were a crash's leftovers. Otherwise it stays, for the operator.
func keepUnlisted(dir string) (kept string, names []string, err error) {
	names, err = unlistedTables(dir)
	if err != nil || len(names) == 0 {
		return "", nil, err
	}
	kept = filepath.Join(dir, keptTablesDir, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.MkdirAll(kept, 0o700); err != nil {
		return "", nil, fmt.Errorf("store: keep tables the MANIFEST does not list: %w", err)
	}
	for _, name := range names {
		from, to := filepath.Join(dir, name), filepath.Join(kept, name)
		if os.Link(from, to) == nil {
			continue
		}
		if err := copyFile(from, to); err != nil {
			return "", nil, fmt.Errorf("store: keep table %s, which the MANIFEST does not list, in %q: %w", name, kept, err)
		}
	}
	return kept, names, nil
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
