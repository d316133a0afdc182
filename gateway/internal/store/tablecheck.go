package store

import (
	"errors"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
)

// checkTable reads one table the MANIFEST lists, checks its footer
// (checkTableFooter) and verifies each block: that it decompresses and that
// its checksum matches. Badger does the same when it opens a table
// (OnTableRead), but in its own goroutines, and a block that fails to
// decompress (a flipped byte in Snappy data) makes v4.9.6 dereference a nil
// block (table.VerifyChecksum) and kill the process. Here the failure is in
// the caller's goroutine, recovered, and becomes an error. It costs one more
// read of every table at start; Badger's own pass then reads them from the
// page cache (DESIGN.md has the figures).
func checkTable(path string, id uint64, tm badger.TableManifest) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("listed in the MANIFEST but the .sst file is missing")
	}
	if err != nil {
		return err
	}
	if err := checkTableFooter(b); err != nil {
		return err
	}
	if tm.KeyID != 0 {
		return nil // encrypted: the store never encrypts, Badger checks it
	}
	return verifyTable(b, id, tm.Compression)
}

// verifyTable verifies the blocks of one table, b, turning Badger's panics
// into an error.
func verifyTable(b []byte, id uint64, c options.CompressionType) (err error) {
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
