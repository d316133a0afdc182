package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4"
)

// ErrDamaged means the data directory is damaged: a Badger file is missing
// or does not read back as written. The store refuses to open it, because
// Badger would otherwise open what is left and overwrite the rest.
var ErrDamaged = errors.New("store: data directory is damaged")

// damageHint is how an operator gets out of a refusal to open a damaged
// directory.
const damageHint = "restore the last backup into an empty directory (gateway store restore), " +
	"or move this directory aside (or point storage.path or --data elsewhere) to start empty; " +
	"`gateway store check` describes the damage"

// dataDir is what checkDataDir read of a data directory, so that the steps
// after it (keepUnlisted, Check) need not read it again.
type dataDir struct {
	// ssts are the .sst files in the directory.
	ssts []string
	// tables is what its MANIFEST lists; nil without a MANIFEST.
	tables map[uint64]badger.TableManifest
}

// unlisted returns the .sst files that the MANIFEST does not list, sorted.
// Badger deletes them when it opens the directory, even read-only, taking
// them for what a crash in a flush or a compaction leaves behind. They can
// also be the tables of a MANIFEST cut short in the middle, and then they
// hold acknowledged events. With no MANIFEST there is nothing to compare
// with (checkDataDir has refused such a directory already).
func (d dataDir) unlisted() []string {
	if d.tables == nil {
		return nil
	}
	var out []string
	for _, name := range d.ssts {
		id, err := strconv.ParseUint(strings.TrimSuffix(name, ".sst"), 10, 64)
		if _, listed := d.tables[id]; err == nil && !listed {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// checkDataDir refuses a directory whose Badger files cannot be trusted,
// before Badger opens it. Badger itself recovers silently from what it
// takes for a crash: without a MANIFEST it starts a new empty database and,
// at the next flush, writes over 000001.sst; a MANIFEST cut short loses the
// tables it no longer lists; a table whose footer points outside the file
// panics in one of Badger's own goroutines, where no recover can catch it.
// rec is the integrity record, nil if there is none. It reads the directory
// and the MANIFEST once, and every listed table once (checkTable).
func checkDataDir(dir string, rec *integrityRecord) (dataDir, error) {
	var d dataDir
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if rec != nil {
			return d, missingData(dir, rec)
		}
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("store: read data directory %q: %w", dir, err)
	}
	files := map[string][]string{} // extension -> names
	hasManifest := false
	for _, e := range entries {
		name := e.Name()
		if name == "MANIFEST" {
			hasManifest = true
		}
		if ext := filepath.Ext(name); ext == ".sst" || ext == ".vlog" || ext == ".mem" {
			files[ext] = append(files[ext], name)
		}
	}
	d.ssts = files[".sst"]
	if !hasManifest {
		if len(files) > 0 {
			return d, fmt.Errorf("%w: %q holds %s but no MANIFEST, the file that lists them; "+
				"opening it would start an empty store and overwrite them: %s",
				ErrDamaged, dir, describeFiles(files), damageHint)
		}
		if rec != nil {
			return d, missingData(dir, rec)
		}
		return d, nil
	}
	if d.tables, err = readManifest(dir); err != nil {
		return d, fmt.Errorf("%w: %q: MANIFEST is unreadable (%v); the tables it lists cannot be found without it: %s",
			ErrDamaged, dir, err, damageHint)
	}
	if len(d.tables) == 0 && len(d.ssts) > 0 {
		return d, fmt.Errorf("%w: %q: MANIFEST lists no tables but the directory holds %s; "+
			"the MANIFEST was cut short or replaced: %s", ErrDamaged, dir, describeFiles(map[string][]string{".sst": d.ssts}), damageHint)
	}
	ids := make([]uint64, 0, len(d.tables))
	for id := range d.tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if err := checkTable(filepath.Join(dir, tableName(id)), id, d.tables[id]); err != nil {
			return d, fmt.Errorf("%w: %q: table %s: %v: %s", ErrDamaged, dir, tableName(id), err, damageHint)
		}
	}
	return d, nil
}

func missingData(dir string, rec *integrityRecord) error {
	return fmt.Errorf("%w: %q holds no Badger data (no MANIFEST), but its integrity record %s says the store was created on %s and %d events were committed; "+
		"point storage.path at the right directory, restore a backup (gateway store restore), "+
		"or start empty with gateway serve --accept-data-loss",
		ErrDataLoss, dir, integrityFile, rec.Created.Format("2006-01-02 15:04:05 MST"), rec.Events)
}

func describeFiles(files map[string][]string) string {
	var parts []string
	for _, ext := range []string{".sst", ".vlog", ".mem"} {
		names := files[ext]
		if len(names) == 0 {
			continue
		}
		sort.Strings(names)
		kind := map[string]string{".sst": "table", ".vlog": "value-log", ".mem": "WAL"}[ext]
		parts = append(parts, fmt.Sprintf("%d %s file(s) (%s)", len(names), kind, strings.Join(names, ", ")))
	}
	return strings.Join(parts, ", ")
}

// readManifest replays dir's MANIFEST and returns the tables it lists.
func readManifest(dir string) (map[uint64]badger.TableManifest, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir))
	if err != nil {
		return nil, err
	}
	return m.Tables, nil
}

// tableName is Badger's file name for table id.
func tableName(id uint64) string { return fmt.Sprintf("%06d.sst", id) }

// checkTableFooter checks that the lengths in a table's footer fit inside
// it. A table ends with its index, the index length (4 bytes), the index
// checksum and the checksum length (4 bytes); Badger slices the file with
// those lengths unchecked, and panics when they point outside it (a
// truncated table). The checksums themselves are verifyTable's.
func checkTableFooter(b []byte) error {
	size := int64(len(b))
	const word = 4
	readWord := func(off int64) (int64, error) {
		if off < 0 {
			return 0, fmt.Errorf("the .sst file is cut short (%d bytes)", size)
		}
		return int64(binary.BigEndian.Uint32(b[off:])), nil
	}
	chkLen, err := readWord(size - word)
	if err != nil {
		return err
	}
	idxLenAt := size - word - chkLen - word
	idxLen, err := readWord(idxLenAt)
	if err != nil || idxLen > idxLenAt {
		return fmt.Errorf("the .sst file is cut short or its footer is damaged (%d bytes; the footer points outside them)", size)
	}
	return nil
}
