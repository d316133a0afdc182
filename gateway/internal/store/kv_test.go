package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

func TestPluginKV_getSetDelete(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	a, err := s.PluginKV("a", 0)
	require.NoError(t, err)
	b, err := s.PluginKV("b", 0)
	require.NoError(t, err)

	_, err = a.Get(ctx, []byte("k"))
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, a.Set(ctx, []byte("k"), []byte("va"), 0))
	require.NoError(t, b.Set(ctx, []byte("k"), []byte("vb"), 0))
	v, err := a.Get(ctx, []byte("k"))
	require.NoError(t, err)
	require.Equal(t, "va", string(v))
	v, err = b.Get(ctx, []byte("k"))
	require.NoError(t, err)
	require.Equal(t, "vb", string(v), "namespaces are separate")

	require.NoError(t, a.Delete(ctx, []byte("k")))
	require.NoError(t, a.Delete(ctx, []byte("k")), "deleting a missing key")
	_, err = a.Get(ctx, []byte("k"))
	require.ErrorIs(t, err, ErrNotFound)
	_, err = b.Get(ctx, []byte("k"))
	require.NoError(t, err)

	u, err := a.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(0), u)
	u, err = b.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), u)
}

func TestPluginKV_invalid(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	_, err := s.PluginKV("", 0)
	require.Error(t, err)
	_, err = s.PluginKV("a\x00b", 0)
	require.Error(t, err)

	kv, err := s.PluginKV("a", 0)
	require.NoError(t, err)
	require.ErrorIs(t, kv.Set(ctx, nil, []byte("v"), 0), ErrKVInvalid)
	require.ErrorIs(t, kv.Set(ctx, bytes.Repeat([]byte("k"), abi.MaxKVKeyBytes+1), nil, 0), ErrKVInvalid)
	require.ErrorIs(t, kv.Set(ctx, []byte("k"), make([]byte, abi.MaxKVValueBytes+1), 0), ErrKVTooLarge)
	require.NoError(t, kv.Set(ctx, []byte("s"), []byte("text"), 0))
	_, err = kv.Incr(ctx, []byte("s"), 1, 0)
	require.ErrorIs(t, err, ErrKVInvalid)
}

func TestPluginKV_quota(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	kv, err := s.PluginKV("q", 20)
	require.NoError(t, err)

	require.NoError(t, kv.Set(ctx, []byte("k1"), make([]byte, 8), 0))       // 10
	require.NoError(t, kv.Set(ctx, []byte("k2"), make([]byte, 8), 0))       // 20
	require.ErrorIs(t, kv.Set(ctx, []byte("k3"), []byte("x"), 0), ErrQuota) // 23
	require.NoError(t, kv.Set(ctx, []byte("k2"), make([]byte, 4), 0))       // shrink: 16
	require.NoError(t, kv.Set(ctx, []byte("k3"), []byte("x"), 0))           // 19
	_, err = kv.Incr(ctx, []byte("c"), 1, 0)                                // 28
	require.ErrorIs(t, err, ErrQuota)
	require.NoError(t, kv.Delete(ctx, []byte("k1"))) // 9
	n, err := kv.Incr(ctx, []byte("c"), 1, 0)        // 18
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	u, err := kv.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(18), u)

	// Another handle on the same plugin sees the same usage.
	other, err := s.PluginKV("q", 20)
	require.NoError(t, err)
	require.ErrorIs(t, other.Set(ctx, []byte("zz"), []byte("123"), 0), ErrQuota)
}

func TestPluginKV_incr(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	kv, err := s.PluginKV("c", 0)
	require.NoError(t, err)
	n, err := kv.Incr(ctx, []byte("n"), 5, 0)
	require.NoError(t, err)
	require.Equal(t, int64(5), n)
	n, err = kv.Incr(ctx, []byte("n"), -7, 0)
	require.NoError(t, err)
	require.Equal(t, int64(-2), n)
	v, err := kv.Get(ctx, []byte("n"))
	require.NoError(t, err)
	require.Equal(t, int64(-2), int64(binary.LittleEndian.Uint64(v)), "a counter is 8 bytes little-endian")
}

// TestPluginKV_incrConcurrent runs increments through two handles of one
// plugin, so both the mutex and Badger's conflict retry are exercised.
func TestPluginKV_incrConcurrent(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	h1, err := s.PluginKV("c", 1<<20)
	require.NoError(t, err)
	h2, err := s.PluginKV("c", 1<<20)
	require.NoError(t, err)
	const workers, each = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		h := h1
		if w%2 == 1 {
			h = h2
		}
		wg.Go(func() {
			for range each {
				if _, err := h.Incr(ctx, []byte("n"), 1, time.Hour); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, err := h1.Incr(ctx, []byte("n"), 0, 0)
	require.NoError(t, err)
	require.Equal(t, int64(workers*each), n)
	u, err := h1.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1+8), u)
}

// TestPluginKV_ttl waits for real TTLs (Badger's whole seconds).
func TestPluginKV_ttl(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	kv, err := s.PluginKV("ttl", 100)
	require.NoError(t, err)

	require.NoError(t, kv.Set(ctx, []byte("gone"), []byte("v"), time.Millisecond))
	// The window must outlive the next two calls, also on a busy machine:
	// a 1 ms TTL expires at the next whole second, which can come between
	// them.
	_, err = kv.Incr(ctx, []byte("win"), 1, 3*time.Second)
	require.NoError(t, err)
	require.NoError(t, kv.Set(ctx, []byte("kept"), []byte("v"), 0))

	// The window's expiry is fixed when the counter is created: increments
	// do not extend it, so it expires with the first TTL.
	n, err := kv.Incr(ctx, []byte("win"), 1, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(2), n)

	require.Eventually(t, "TTL entries to expire", func() bool {
		_, e1 := kv.Get(ctx, []byte("gone"))
		_, e2 := kv.Get(ctx, []byte("win"))
		return e1 == ErrNotFound && e2 == ErrNotFound
	})
	_, err = kv.Get(ctx, []byte("kept"))
	require.NoError(t, err)

	n, err = kv.Incr(ctx, []byte("win"), 1, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "a new window starts from zero")
}

// TestPluginKV_quotaRecount: bytes of expired entries stay counted until a
// write hits the quota, which recounts the live entries.
func TestPluginKV_quotaRecount(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	kv, err := s.PluginKV("r", 20)
	require.NoError(t, err)
	require.NoError(t, kv.Set(ctx, []byte("tmp"), make([]byte, 15), time.Millisecond)) // 18
	require.Eventually(t, "the entry to expire", func() bool {
		_, err := kv.Get(ctx, []byte("tmp"))
		return err == ErrNotFound
	})
	require.NoError(t, kv.Set(ctx, []byte("new"), make([]byte, 15), 0))
	u, err := kv.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(18), u)
}

func TestPluginKV_clear(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	kv, err := s.PluginKV("x", 0)
	require.NoError(t, err)
	keep, err := s.PluginKV("xy", 0)
	require.NoError(t, err)
	for i := range 1500 {
		require.NoError(t, kv.Set(ctx, []byte(strings.Repeat("k", 1+i%200)+string(rune('a'+i%26))+time.Duration(i).String()), []byte("v"), 0))
	}
	require.NoError(t, keep.Set(ctx, []byte("k"), []byte("v"), 0))
	require.NoError(t, kv.Clear(ctx))
	u, err := kv.Usage(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(0), u)
	// Clear removes the usage counter in any case; check the entries too,
	// past the first batch of 1000.
	left := 0
	require.NoError(t, s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: kv.prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			left++
		}
		return nil
	}))
	require.Equal(t, 0, left, "entries left after Clear")
	_, err = keep.Get(ctx, []byte("k"))
	require.NoError(t, err, "another plugin's keys survive")
}
