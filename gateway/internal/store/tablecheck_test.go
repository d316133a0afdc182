package store

import (
	"os"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestOpen_sstBlockUndecodable flips the first bytes of a table's first
// block, which is Snappy-compressed: the block no longer decompresses.
// Badger's checksum check at table open (OnTableRead) then dereferences a
// nil block (table.VerifyChecksum) in one of its own goroutines, and the
// process dies. Open must refuse, naming the table. (TestOpen_damagedFiles's
// "sst flipped" lands on such a block now and then, depending on the data.)
func TestOpen_sstBlockUndecodable(t *testing.T) {
	dir, _ := damageImage(t)
	path := oneFile(t, dir, ".sst")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for i := range 8 {
		b[i] ^= 0xff
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))

	_, err = openDamaged(dir)
	require.ErrorIs(t, err, ErrDamaged)
	require.Contains(t, err.Error(), "000001.sst")
	require.Contains(t, err.Error(), "storage.path") // the way out names the key
	t.Logf("refused: %v", err)
}
