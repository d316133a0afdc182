package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestRestore_refusesBackupCutShort cuts a backup short where one of
// Badger's records ends, as a download that failed half-way can (the
// stream backup is a run of records, each a little-endian uint64 length
// and a KVList; Badger's Load stops at the end of any record). Restore must
// refuse it, and leave the directory as it found it.
func TestRestore_refusesBackupCutShort(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{Sync: true})
	for i := range 50 {
		batch := make([]Draft, 20)
		for j := range batch {
			batch[j] = draft("cut.test", fmt.Sprintf(`{"i":%d,"j":%d}`, i, j))
		}
		appendOK(t, s, batch...)
	}
	var buf bytes.Buffer
	require.NoError(t, s.Backup(ctx, &buf))
	b := buf.Bytes()

	var ends []int
	for off := 0; off+8 <= len(b); {
		off += 8 + int(binary.LittleEndian.Uint64(b[off:]))
		if off <= len(b) {
			ends = append(ends, off)
		}
	}
	require.True(t, len(ends) >= 2, "the backup has %d records; the test needs two", len(ends))
	cut := b[:ends[len(ends)/2-1]]

	dir := filepath.Join(t.TempDir(), "restored")
	err := Restore(dir, bytes.NewReader(cut), slog.New(slog.DiscardHandler))
	require.Error(t, err, "restore of a backup cut short (%d of %d bytes)", len(cut), len(b))
	require.Contains(t, err.Error(), "cut short")
	_, statErr := os.Stat(dir)
	require.True(t, os.IsNotExist(statErr), "a failed restore removes what it wrote: %v", statErr)

	// The whole backup still restores.
	require.NoError(t, Restore(dir, bytes.NewReader(b), slog.New(slog.DiscardHandler)))
}
