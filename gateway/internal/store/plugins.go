package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Table tags of plugins uploaded through the API; see doc.go.
var (
	prefixPlugin = []byte("P/")
	prefixBlob   = []byte("B/")
)

// moduleChunk is the size of one B/ value. Badger in memory refuses values
// over 1 MiB and transactions over a fraction of the memtable, so modules
// (up to 32 MiB) are stored in chunks, a few per transaction.
const (
	moduleChunk     = 512 << 10
	chunksPerCommit = 2
)

// modulePrefix is B/<hash>/, the prefix of every chunk of a module.
func modulePrefix(hash string) []byte {
	return key(prefixBlob, []byte(hash), []byte("/"))
}

// chunkKey is B/<hash>/<n, 4 bytes big-endian>.
func chunkKey(hash string, n int) []byte {
	return binary.BigEndian.AppendUint32(modulePrefix(hash), uint32(n))
}

// SavedPlugin is a plugin uploaded through the API: its settings, as the
// plugins package encodes them, and its module.
type SavedPlugin struct {
	Name     string
	Settings []byte
	Wasm     []byte
}

// ModuleUses reports whether a plugin's saved settings name the module with
// the given hex sha256. The store keeps settings opaque; the plugins
// package, which encodes them, answers.
type ModuleUses func(settings []byte, hash string) bool

// SavePlugin stores a plugin's settings under P/<name> and its module under
// B/<sha256>/<n> (content-addressed, so the same bytes under two names are
// stored once; in chunks, see moduleChunk). The settings are written in one
// transaction after the chunks. settings must record the module's hex
// sha256, so SavedPlugins can find it. replaced is the hash of the module
// the name had before ("" if none); that module is deleted unless another
// plugin still uses it. Like DeletePlugin, it syncs before it returns
// (Options.Sync): an uploaded plugin is promised to survive a restart.
func (s *Store) SavePlugin(ctx context.Context, name string, settings, wasm []byte, replaced string, uses ModuleUses) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	if err := s.saveModule(ctx, hash, wasm); err != nil {
		return fmt.Errorf("store: save plugin %q: %w", name, err)
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(key(prefixPlugin, []byte(name)), settings); err != nil {
			return err
		}
		if replaced == "" || replaced == hash {
			return nil
		}
		return dropUnusedModule(txn, replaced, uses)
	})
	if err != nil {
		return fmt.Errorf("store: save plugin %q: %w", name, err)
	}
	// The module's chunks are values in the value log.
	if err := s.sync(true); err != nil {
		return fmt.Errorf("store: save plugin %q: %w (the plugin may or may not be stored): %w", name, ErrNotSynced, err)
	}
	return nil
}

// saveModule writes the chunks of a module, unless its last chunk is
// there already (chunks are written in order, so the last one means all).
// A crash in between leaves unreferenced chunks that the next upload of the
// same bytes overwrites.
func (s *Store) saveModule(ctx context.Context, hash string, wasm []byte) error {
	n := (len(wasm) + moduleChunk - 1) / moduleChunk
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(chunkKey(hash, n-1))
		return err
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	for i := 0; i < n; i += chunksPerCommit {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			for j := i; j < min(i+chunksPerCommit, n); j++ {
				if err := txn.Set(chunkKey(hash, j), wasm[j*moduleChunk:min((j+1)*moduleChunk, len(wasm))]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DeletePlugin removes a plugin's settings, and its module (hash) unless
// another plugin still uses it.
func (s *Store) DeletePlugin(ctx context.Context, name, hash string, uses ModuleUses) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(key(prefixPlugin, []byte(name))); err != nil {
			return err
		}
		return dropUnusedModule(txn, hash, uses)
	})
	if err != nil {
		return fmt.Errorf("store: delete plugin %q: %w", name, err)
	}
	if err := s.sync(false); err != nil {
		return fmt.Errorf("store: delete plugin %q: %w (the plugin may or may not be deleted): %w", name, ErrNotSynced, err)
	}
	return nil
}

// dropUnusedModule deletes B/<hash> unless a P/ entry uses it. The
// iterator sees the transaction's own writes.
func dropUnusedModule(txn *badger.Txn, hash string, uses ModuleUses) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixPlugin, PrefetchValues: true, PrefetchSize: 16})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		used := false
		if err := it.Item().Value(func(v []byte) error { used = uses(v, hash); return nil }); err != nil {
			return err
		}
		if used {
			return nil
		}
	}
	var chunks [][]byte
	del := txn.NewIterator(badger.IteratorOptions{Prefix: modulePrefix(hash)})
	for del.Rewind(); del.Valid(); del.Next() {
		chunks = append(chunks, del.Item().KeyCopy(nil))
	}
	del.Close()
	for _, k := range chunks {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// readModule reads and checks the chunks of a module.
func readModule(txn *badger.Txn, hash string) ([]byte, error) {
	var buf bytes.Buffer
	it := txn.NewIterator(badger.IteratorOptions{Prefix: modulePrefix(hash), PrefetchValues: true, PrefetchSize: 4})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := it.Item().Value(func(v []byte) error { buf.Write(v); return nil }); err != nil {
			return nil, err
		}
	}
	if buf.Len() == 0 {
		return nil, ErrNotFound
	}
	sum := sha256.Sum256(buf.Bytes())
	if hex.EncodeToString(sum[:]) != hash {
		return nil, fmt.Errorf("stored bytes do not match their sha256 (incomplete upload?): %w", ErrNotFound)
	}
	return buf.Bytes(), nil
}

// SavedPlugins returns every plugin uploaded through the API, in name order.
// moduleHash extracts the module hash from a settings value.
func (s *Store) SavedPlugins(ctx context.Context, moduleHash func(settings []byte) (string, error)) ([]SavedPlugin, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []SavedPlugin
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixPlugin, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			name := string(it.Item().Key()[len(prefixPlugin):])
			settings, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			hash, err := moduleHash(settings)
			if err != nil {
				return fmt.Errorf("plugin %q: %w", name, err)
			}
			wasm, err := readModule(txn, hash)
			if err != nil {
				return fmt.Errorf("plugin %q: module %s: %w", name, hash, err)
			}
			out = append(out, SavedPlugin{Name: name, Settings: settings, Wasm: wasm})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read saved plugins: %w", err)
	}
	return out, nil
}
