package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

// Replays resolves the idempotency keys of drafts against what is
// committed, and writes nothing. Result i is Replayed, with the stored
// event, when Append would replay draft i from a stored event. It fails
// with ErrIdempotencyConflict or ErrIDTaken when Append would refuse the
// drafts for their keys or ids, and with ErrClosed once the store is closed.
//
// It lets a caller tell a retry from a new request before it does work for
// the request (the ingest filters). A key that another request is
// committing at the same moment, or whose commit is not synced yet, is not
// seen yet; Append still resolves it, so at worst that work is done twice,
// and the event is stored once. A
// draft that repeats an earlier draft of the same call is resolved the same
// way as that draft: replayed if it is stored, otherwise not.
func (s *Store) Replays(ctx context.Context, drafts []Draft) ([]Appended, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	r := newAppendReq(drafts)
	err := s.db.View(func(txn *badger.Txn) error {
		dupOf, err := s.resolve(txn, r, nil)
		if err != nil {
			return err
		}
		for i, j := range dupOf {
			if j >= 0 {
				r.res[i] = r.res[j]
			}
		}
		return nil
	})
	switch {
	case err == nil:
		// An event is visible once committed, but acknowledged only once
		// synced: leave a newer one to Append, which waits for its sync.
		synced := s.synced.Load()
		for i := range r.res {
			if r.res[i].Replayed && bytes.Compare(r.res[i].Event.Seq[:], synced[:]) > 0 {
				r.res[i] = Appended{}
			}
		}
		return r.res, nil
	case errors.Is(err, badger.ErrDBClosed):
		return nil, ErrClosed
	case isRequestError(err):
		return nil, err
	}
	return nil, fmt.Errorf("store: resolve idempotency keys: %w", err)
}

// resolve sets r.res[i] to the replayed event of every draft whose key is
// known, in txn or among the pending keys of the transaction being staged
// (pending may be nil), and returns for each draft the index of an earlier
// draft of r with the same key, or -1. It fails with ErrIdempotencyConflict
// when a key comes with another request than the one it names, and with
// ErrIDTaken when a new event's client id is taken by an event whose key
// has expired (a client id stays unique after its window).
func (s *Store) resolve(txn *badger.Txn, r *appendReq, pending map[string]pendingKey) ([]int, error) {
	r.res = make([]Appended, len(r.drafts))
	// firstInReq maps a key to the first draft of this request carrying it;
	// a later draft with the same key replays that one.
	firstInReq := make(map[string]int)
	dupOf := make([]int, len(r.drafts))
	for i, d := range r.drafts {
		dupOf[i] = -1
		if d.IdemKey == "" {
			continue
		}
		if j, ok := firstInReq[d.IdemKey]; ok {
			if r.hashes[j] != r.hashes[i] {
				return nil, ErrIdempotencyConflict
			}
			dupOf[i] = j
			continue
		}
		firstInReq[d.IdemKey] = i
		if p, ok := pending[d.IdemKey]; ok {
			if p.hash != r.hashes[i] {
				return nil, ErrIdempotencyConflict
			}
			r.res[i] = Appended{Event: p.event, Replayed: true}
			continue
		}
		ev, hash, found, err := s.lookupIdem(txn, d.IdemKey)
		if err == nil && !found && d.LegacyIdemKey != "" {
			ev, hash, found, err = s.lookupIdem(txn, d.LegacyIdemKey)
		}
		if err != nil {
			return nil, err
		}
		if found {
			if hash != r.hashes[i] {
				return nil, ErrIdempotencyConflict
			}
			r.res[i] = Appended{Event: ev, Replayed: true}
		}
	}
	for i, d := range r.drafts {
		if d.ID == "" || r.res[i].Replayed || dupOf[i] >= 0 {
			continue
		}
		_, err := txn.Get(key(prefixID, []byte(d.ID)))
		if err == nil {
			return nil, fmt.Errorf("%w: %q", ErrIDTaken, d.ID)
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("store: id lookup: %w", err)
		}
	}
	return dupOf, nil
}

// requestHash identifies what a draft asked for, so that a reused
// idempotency key with a different request can be refused.
func requestHash(d Draft) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range [...]string{d.ID, d.Type, d.Source} {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	h.Write(d.Data)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

func (s *Store) lookupIdem(txn *badger.Txn, idemKey string) (ev event.Event, hash [sha256.Size]byte, found bool, err error) {
	item, err := txn.Get(key(prefixIdem, []byte(idemKey)))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ev, hash, false, nil
	}
	if err != nil {
		return ev, hash, false, fmt.Errorf("store: idempotency lookup: %w", err)
	}
	val, err := item.ValueCopy(nil)
	if err != nil || len(val) != len(event.Seq{})+sha256.Size {
		return ev, hash, false, fmt.Errorf("store: idempotency record %q is corrupt", idemKey)
	}
	var seq event.Seq
	copy(seq[:], val)
	copy(hash[:], val[len(seq):])
	ev, err = getEvent(txn, seq)
	if errors.Is(err, ErrNotFound) {
		// The event is gone: retention swept it before the key expired.
		// Treat the key as unused rather than replaying nothing.
		return ev, hash, false, nil
	}
	return ev, hash, err == nil, err
}
