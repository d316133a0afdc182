package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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

// checkDataDir refuses a directory whose Badger files cannot be trusted,
// before Badger opens it. Badger itself recovers silently from what it
// takes for a crash: without a MANIFEST it starts a new empty database and,
// at the next flush, writes over 000001.sst; a MANIFEST cut short loses the
// tables it no longer lists; a table whose footer points outside the file
// panics in one of Badger's own goroutines, where no recover can catch it.
// rec is the integrity record, nil if there is none.
func checkDataDir(dir string, rec *integrityRecord) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if rec != nil {
			return missingData(dir, rec)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: read data directory %q: %w", dir, err)
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
	if !hasManifest {
		if len(files) > 0 {
			return fmt.Errorf("%w: %q holds %s but no MANIFEST, the file that lists them; "+
				"opening it would start an empty store and overwrite them: %s",
				ErrDamaged, dir, describeFiles(files), damageHint)
		}
		if rec != nil {
			return missingData(dir, rec)
		}
		return nil
	}
	tables, err := readManifest(dir)
	if err != nil {
		return fmt.Errorf("%w: %q: MANIFEST is unreadable (%v); the tables it lists cannot be found without it: %s",
			ErrDamaged, dir, err, damageHint)
	}
	if len(tables) == 0 && len(files[".sst"]) > 0 {
		return fmt.Errorf("%w: %q: MANIFEST lists no tables but the directory holds %s; "+
			"the MANIFEST was cut short or replaced: %s", ErrDamaged, dir, describeFiles(map[string][]string{".sst": files[".sst"]}), damageHint)
	}
	for _, id := range tables {
		name := tableName(id)
		if err := checkTableFooter(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%w: %q: table %s: %v: %s", ErrDamaged, dir, name, err, damageHint)
		}
	}
	return verifyTables(dir)
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

// readManifest replays dir's MANIFEST and returns the ids of the tables it
// lists.
func readManifest(dir string) ([]uint64, error) {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir))
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// tableName is Badger's file name for table id.
func tableName(id uint64) string { return fmt.Sprintf("%06d.sst", id) }

// checkTableFooter checks that a table exists and that the lengths in its
// footer fit inside it. A table ends with its index, the index length (4
// bytes), the index checksum and the checksum length (4 bytes); Badger
// slices the file with those lengths unchecked, and panics when they point
// outside it (a truncated table). The checksums themselves are Badger's to
// verify (ChecksumVerificationMode).
func checkTableFooter(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("listed in the MANIFEST but the .sst file is missing")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	const word = 4
	var buf [word]byte
	readWord := func(off int64) (int64, error) {
		if off < 0 {
			return 0, fmt.Errorf("the .sst file is cut short (%d bytes)", size)
		}
		if _, err := f.ReadAt(buf[:], off); err != nil {
			return 0, fmt.Errorf("read the .sst footer: %w", err)
		}
		return int64(binary.BigEndian.Uint32(buf[:])), nil
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
