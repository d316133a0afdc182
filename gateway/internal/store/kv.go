package store

// Plugin key-value store (the gw_v1 kv_* host functions).
//
// Key schema, in addition to the tables listed in doc.go:
//
//	p/<plugin>\x00<key>     one plugin KV entry (Badger TTL)           value: bytes
//	q/<plugin>              bytes used by the plugin's KV entries      value: int64 LE
//
// Atomicity. Every write (Set, Delete, Incr) is a read-modify-write of the
// entry and of the plugin's q/ usage counter in one Badger transaction, so
// the quota and the entry never disagree. Writers through one PluginKV are
// serialised by its mutex (the common case: one handle per plugin, shared by
// all its Wasm instances), which keeps Badger conflicts away from the hot
// path; writers through two handles for the same plugin (old and new version
// during a hot reload) are kept correct by Badger's conflict detection, and a
// conflicting transaction is retried.
//
// Expiry. Entries expire through Badger's TTL (whole seconds, rounded up),
// so an expired entry's bytes stay counted in q/ until the next recount.
// Usage is therefore never under-counted; when a write would exceed the quota
// the counter is recomputed from the live entries (at most once per
// recountEvery) before ErrQuota is returned.
//
// A counter made by Incr is an 8-byte little-endian int64, so kv_get reads it
// as the ABI promises. Incr with a TTL sets the expiry only when it creates
// the counter; later increments keep the item's ExpiresAt, so "N per minute"
// is one Incr call.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/sdk/abi"
)

var (
	prefixPluginKV    = []byte("p/")
	prefixPluginUsage = []byte("q/")
)

// Plugin KV sentinel errors. A missing key is ErrNotFound.
var (
	// ErrQuota means a write would take the plugin's KV store over its quota.
	ErrQuota = errors.New("store: plugin kv quota exceeded")
	// ErrKVInvalid means a key is empty or too long, or Incr found a value
	// that is not an 8-byte counter.
	ErrKVInvalid = errors.New("store: invalid plugin kv key or value")
	// ErrKVTooLarge means a value is over abi.MaxKVValueBytes.
	ErrKVTooLarge = errors.New("store: plugin kv value too large")
)

// maxConflictRetries bounds the retries of a write that lost a Badger
// conflict to another handle of the same plugin.
const maxConflictRetries = 64

// recountEvery rate-limits usage recounts on a plugin that sits at its quota.
const recountEvery = time.Second

// PluginKV is one plugin's KV namespace. It is safe for concurrent use.
type PluginKV struct {
	s        *Store
	plugin   string
	prefix   []byte // p/<plugin>\x00
	usageKey []byte // q/<plugin>
	quota    int64

	mu          sync.Mutex // serialises writes; guards lastRecount
	lastRecount time.Time
}

// PluginKV returns the KV namespace of plugin, limited to quota bytes of
// keys plus values (quota <= 0 means unlimited). Handles are cheap; the data
// is shared by every handle of the same plugin name.
func (s *Store) PluginKV(plugin string, quota int64) (*PluginKV, error) {
	if plugin == "" || strings.IndexByte(plugin, 0) >= 0 {
		return nil, fmt.Errorf("store: invalid plugin name %q", plugin)
	}
	return &PluginKV{
		s:        s,
		plugin:   plugin,
		prefix:   key(prefixPluginKV, []byte(plugin), []byte{0}),
		usageKey: key(prefixPluginUsage, []byte(plugin)),
		quota:    quota,
	}, nil
}

func (kv *PluginKV) entryKey(k []byte) ([]byte, error) {
	if len(k) == 0 || len(k) > abi.MaxKVKeyBytes {
		return nil, fmt.Errorf("%w: key of %d bytes (1..%d)", ErrKVInvalid, len(k), abi.MaxKVKeyBytes)
	}
	return key(kv.prefix, k), nil
}

// Get returns a copy of the value of k, or ErrNotFound.
func (kv *PluginKV) Get(ctx context.Context, k []byte) ([]byte, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	ek, err := kv.entryKey(k)
	if err != nil {
		return nil, err
	}
	var v []byte
	err = kv.s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(ek)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: plugin %q kv get: %w", kv.plugin, err)
	}
	return v, nil
}

// Set stores v under k; ttl > 0 makes it expire (rounded up to whole
// seconds). It returns ErrQuota when the plugin's store would be over quota.
func (kv *PluginKV) Set(ctx context.Context, k, v []byte, ttl time.Duration) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ek, err := kv.entryKey(k)
	if err != nil {
		return err
	}
	if len(v) > abi.MaxKVValueBytes {
		return fmt.Errorf("%w: %d bytes (max %d)", ErrKVTooLarge, len(v), abi.MaxKVValueBytes)
	}
	return kv.write(ctx, func(txn *badger.Txn, usage int64) (int64, error) {
		old, _, err := kv.sizeOf(txn, ek, k)
		if err != nil {
			return 0, err
		}
		e := badger.NewEntry(ek, v)
		if ttl > 0 {
			e.ExpiresAt = expiresAt(ttl)
		}
		return usage - old + int64(len(k)+len(v)), txn.SetEntry(e)
	})
}

// Delete removes k. Deleting a missing key is not an error.
func (kv *PluginKV) Delete(ctx context.Context, k []byte) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	ek, err := kv.entryKey(k)
	if err != nil {
		return err
	}
	return kv.write(ctx, func(txn *badger.Txn, usage int64) (int64, error) {
		old, ok, err := kv.sizeOf(txn, ek, k)
		if err != nil || !ok {
			return usage, err
		}
		return usage - old, txn.Delete(ek)
	})
}

// Incr adds delta to the int64 counter at k (missing counts as 0) and
// returns the new value. ttl > 0 applies only when the counter is created.
func (kv *PluginKV) Incr(ctx context.Context, k []byte, delta int64, ttl time.Duration) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	ek, err := kv.entryKey(k)
	if err != nil {
		return 0, err
	}
	var n int64
	err = kv.write(ctx, func(txn *badger.Txn, usage int64) (int64, error) {
		var exp uint64
		var cur int64
		item, err := txn.Get(ek)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			usage += int64(len(k) + 8)
			if ttl > 0 {
				exp = expiresAt(ttl)
			}
		case err != nil:
			return 0, err
		default:
			if item.ValueSize() != 8 {
				return 0, fmt.Errorf("%w: value of %d bytes is not a counter", ErrKVInvalid, item.ValueSize())
			}
			err = item.Value(func(b []byte) error {
				cur = int64(binary.LittleEndian.Uint64(b))
				return nil
			})
			if err != nil {
				return 0, err
			}
			exp = item.ExpiresAt()
		}
		n = cur + delta
		e := badger.NewEntry(ek, binary.LittleEndian.AppendUint64(nil, uint64(n)))
		e.ExpiresAt = exp
		return usage, txn.SetEntry(e)
	})
	return n, err
}

// Usage returns the bytes the plugin's entries are counted for.
func (kv *PluginKV) Usage(ctx context.Context) (int64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var u int64
	err := kv.s.db.View(func(txn *badger.Txn) error {
		var err error
		u, err = kv.usage(txn)
		return err
	})
	return u, err
}

// Clear deletes every entry of the plugin and its usage counter (used when a
// plugin is removed).
func (kv *PluginKV) Clear(ctx context.Context) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	for {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		var keys [][]byte
		err := kv.s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: kv.prefix})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < 1000; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: plugin %q kv clear: %w", kv.plugin, err)
		}
		err = kv.s.db.Update(func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			if len(keys) < 1000 {
				return txn.Delete(kv.usageKey)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: plugin %q kv clear: %w", kv.plugin, err)
		}
		if len(keys) < 1000 {
			return nil
		}
	}
}

// write runs fn, which returns the new usage, in a transaction that also
// checks the quota and stores the usage counter; it retries on conflicts and
// recounts once before reporting ErrQuota.
func (kv *PluginKV) write(ctx context.Context, fn func(txn *badger.Txn, usage int64) (int64, error)) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	recounted := false
	for attempt := 0; ; attempt++ {
		var before int64
		err := kv.s.db.Update(func(txn *badger.Txn) error {
			u, err := kv.usage(txn)
			if err != nil {
				return err
			}
			before = u
			after, err := fn(txn, u)
			if err != nil {
				return err
			}
			if kv.quota > 0 && after > kv.quota && after > before {
				return ErrQuota
			}
			return txn.Set(kv.usageKey, binary.LittleEndian.AppendUint64(nil, uint64(after)))
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries:
			continue
		case errors.Is(err, ErrQuota) && !recounted && time.Since(kv.lastRecount) >= recountEvery:
			recounted = true
			kv.lastRecount = time.Now()
			if err := kv.recount(ctx); err != nil {
				return err
			}
			continue
		case errors.Is(err, ErrQuota), errors.Is(err, ErrKVInvalid):
			return err
		}
		return fmt.Errorf("store: plugin %q kv write: %w", kv.plugin, err)
	}
}

// recount recomputes the usage counter from the live (unexpired) entries.
// It reads the counter in the same transaction, so a concurrent write makes
// it conflict and retry rather than lose that write's accounting.
func (kv *PluginKV) recount(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		err := kv.s.db.Update(func(txn *badger.Txn) error {
			if _, err := kv.usage(txn); err != nil {
				return err
			}
			var total int64
			it := txn.NewIterator(badger.IteratorOptions{Prefix: kv.prefix})
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				total += int64(len(item.Key())-len(kv.prefix)) + item.ValueSize()
			}
			it.Close()
			return txn.Set(kv.usageKey, binary.LittleEndian.AppendUint64(nil, uint64(total)))
		})
		if errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: plugin %q kv recount: %w", kv.plugin, err)
		}
		return nil
	}
}

func (kv *PluginKV) usage(txn *badger.Txn) (int64, error) {
	item, err := txn.Get(kv.usageKey)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var u int64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("corrupt usage counter of %d bytes", len(b))
		}
		u = int64(binary.LittleEndian.Uint64(b))
		return nil
	})
	return u, err
}

// sizeOf returns the counted size of the live entry ek (user key k).
func (kv *PluginKV) sizeOf(txn *badger.Txn, ek, k []byte) (int64, bool, error) {
	item, err := txn.Get(ek)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return int64(len(k)) + item.ValueSize(), true, nil
}

// expiresAt is Badger's ExpiresAt (unix seconds) for ttl from now, rounded
// up so that a short TTL never expires at once. Badger checks expiry against
// the wall clock, so this uses it too.
func expiresAt(ttl time.Duration) uint64 {
	return uint64(time.Now().Add(ttl + time.Second - 1).Unix())
}
