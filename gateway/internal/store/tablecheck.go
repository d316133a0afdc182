package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
)

// verifyTables reads every table dir's MANIFEST lists and verifies each
// block: that it decompresses and that its checksum matches. Badger does the
// same when it opens a table (OnTableRead), but in its own goroutines, and a
// block that fails to decompress (a flipped byte in Snappy data) makes
// v4.9.6 dereference a nil block (table.VerifyChecksum) and kill the
// process. Here the failure is in the caller's goroutine, recovered, and
// becomes ErrDamaged naming the table. It costs one more read of every
// table at start; Badger's own pass then reads them from the page cache.
func verifyTables(dir string) error {
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir))
	if err != nil {
		return err
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		tm := m.Tables[id]
		if tm.KeyID != 0 {
			continue // encrypted: the store never encrypts, Badger checks it
		}
		if err := verifyTable(filepath.Join(dir, tableName(id)), id, tm.Compression); err != nil {
			return fmt.Errorf("%w: %q: table %s: %v: %s", ErrDamaged, dir, tableName(id), err, damageHint)
		}
	}
	return nil
}

// verifyTable verifies the blocks of one table, turning Badger's panics
// into an error.
func verifyTable(path string, id uint64, c options.CompressionType) (err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("a block does not decompress or does not match its checksum (Badger: %v)", firstLine(r))
		}
	}()
	t, err := table.OpenInMemoryTable(b, id, &table.Options{ChkMode: options.OnTableRead, Compression: c})
	if err != nil {
		return err
	}
	// Not DecrRef: at zero it would delete the file, and b is garbage once
	// t is.
	return t.VerifyChecksum()
}

// firstLine is the first line of a recovered panic value; Badger's carry
// a hex dump of the table after it.
func firstLine(r any) string {
	s := fmt.Sprint(r)
	for i := range len(s) {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
