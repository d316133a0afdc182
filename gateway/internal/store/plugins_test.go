package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_SavePlugin checks the P/ and B/ tables: modules are shared by
// content, and a module goes when the last plugin using it is replaced or
// deleted.
func TestStore_SavePlugin(t *testing.T) {
	s, dir := openTemp(t, Options{})
	ctx := context.Background()
	hashOf := func(b []byte) string { sum := sha256.Sum256(b); return hex.EncodeToString(sum[:]) }
	// The settings are just the module hash here.
	uses := func(settings []byte, hash string) bool { return string(settings) == hash }
	moduleHash := func(settings []byte) (string, error) { return string(settings), nil }
	// m2 spans chunks: over 1 MiB, which Badger in memory refuses as one
	// value.
	m1, m2 := []byte("module one"), bytes.Repeat([]byte("module two "), 300_000)
	blobs := func() []string {
		var out []string
		require.NoError(t, s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixBlob})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				k := it.Item().Key()[len(prefixBlob):]
				if h := string(k[:64]); len(out) == 0 || out[len(out)-1] != h {
					out = append(out, h)
				}
			}
			return nil
		}))
		return out
	}

	require.NoError(t, s.SavePlugin(ctx, "x", []byte(hashOf(m1)), m1, "", uses))
	require.NoError(t, s.SavePlugin(ctx, "y", []byte(hashOf(m1)), m1, "", uses))
	require.Equal(t, 1, len(blobs()))
	// Replacing x keeps m1, which y uses.
	require.NoError(t, s.SavePlugin(ctx, "x", []byte(hashOf(m2)), m2, hashOf(m1), uses))
	require.Equal(t, 2, len(blobs()))
	// Deleting y drops m1.
	require.NoError(t, s.DeletePlugin(ctx, "y", hashOf(m1), uses))
	require.Equal(t, hashOf(m2), strings.Join(blobs(), ","))

	require.NoError(t, s.Close())
	s = openAt(t, dir, Options{})
	saved, err := s.SavedPlugins(ctx, moduleHash)
	require.NoError(t, err)
	require.Equal(t, 1, len(saved))
	require.Equal(t, "x", saved[0].Name)
	require.Equal(t, string(m2), string(saved[0].Wasm))
}
