package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
)

// Deliveries key schema (see doc.go):
//
//	d/<seq><webhook id>               delivery record (JSON)
//	D/<webhook id>\x00<seq>           per-webhook index, event order
//	u/<webhook id>\x00<seq>           unfinished deliveries (pending, failed, parked); value: format, parked, due
//	a/<seq><webhook id>\x00<n:2>      attempt n (JSON)
var (
	prefixDelivery   = []byte("d/")
	prefixByWebhook  = []byte("D/")
	prefixUnfinished = []byte("u/")
	prefixAttempt    = []byte("a/")
)

func deliveryKey(seq event.Seq, wh string) []byte {
	return key(prefixDelivery, seq[:], []byte(wh))
}

func webhookIndexKey(prefix []byte, wh string, seq event.Seq) []byte {
	return key(prefix, []byte(wh), []byte{0}, seq[:])
}

func attemptKey(seq event.Seq, wh string, n int) []byte {
	var nb [2]byte
	binary.BigEndian.PutUint16(nb[:], uint16(n))
	return key(prefixAttempt, seq[:], []byte(wh), []byte{0}, nb[:])
}

// maxDeliveriesPerTxn keeps a batch of delivery writes well inside one
// Badger transaction; larger batches are split (each part is atomic).
const maxDeliveriesPerTxn = 1000

// CreateDeliveries stores new deliveries (in transactions of up to
// maxDeliveriesPerTxn), skipping any
// that already exist (a fan-out re-run after a crash). It returns the ones
// it created.
func (s *Store) CreateDeliveries(ctx context.Context, ds []outbox.Delivery) ([]outbox.Delivery, error) {
	if len(ds) > maxDeliveriesPerTxn {
		first, err := s.CreateDeliveries(ctx, ds[:maxDeliveriesPerTxn])
		if err != nil {
			return nil, err
		}
		rest, err := s.CreateDeliveries(ctx, ds[maxDeliveriesPerTxn:])
		return append(first, rest...), err
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var created []outbox.Delivery
	err := s.update(func(txn *badger.Txn) error {
		created = created[:0]
		for i := range ds {
			d := &ds[i]
			k := deliveryKey(d.EventSeq, d.WebhookID)
			_, err := txn.Get(k)
			if err == nil {
				continue
			}
			if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := putDelivery(txn, d, ""); err != nil {
				return err
			}
			created = append(created, *d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: create deliveries: %w", err)
	}
	return created, nil
}

// UpdateDeliveries writes a batch of delivery states (and attempts) in one
// transaction. Delivery workers collect results and write them together.
func (s *Store) UpdateDeliveries(ctx context.Context, us []outbox.Update) error {
	for len(us) > maxDeliveriesPerTxn {
		if err := s.UpdateDeliveries(ctx, us[:maxDeliveriesPerTxn]); err != nil {
			return err
		}
		us = us[maxDeliveriesPerTxn:]
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.updateDeliveries(us)
	if errors.Is(err, badger.ErrTxnTooBig) && len(us) > 1 {
		// Large attempt records (response bodies): write in halves.
		half := len(us) / 2
		if err := s.UpdateDeliveries(ctx, us[:half]); err != nil {
			return err
		}
		return s.UpdateDeliveries(ctx, us[half:])
	}
	if err != nil {
		return fmt.Errorf("store: update deliveries: %w", err)
	}
	return nil
}

func (s *Store) updateDeliveries(us []outbox.Update) error {
	return s.update(func(txn *badger.Txn) error {
		for i := range us {
			d := &us[i].Delivery
			// The D/ index holds the status, written and deleted with the
			// record: reading it spares decoding the record.
			item, err := txn.Get(webhookIndexKey(prefixByWebhook, d.WebhookID, d.EventSeq))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // swept by retention meanwhile
			}
			if err != nil {
				return err
			}
			old, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := putDelivery(txn, d, string(old)); err != nil {
				return err
			}
			if a := us[i].Attempt; a != nil {
				v, err := json.Marshal(a)
				if err != nil {
					return err
				}
				if err := txn.Set(attemptKey(d.EventSeq, d.WebhookID, a.N), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// putDelivery writes d and keeps its indexes in step with its status.
func putDelivery(txn *badger.Txn, d *outbox.Delivery, oldStatus string) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := txn.Set(deliveryKey(d.EventSeq, d.WebhookID), v); err != nil {
		return err
	}
	if err := txn.Set(webhookIndexKey(prefixByWebhook, d.WebhookID, d.EventSeq), []byte(d.Status)); err != nil {
		return err
	}
	uk := webhookIndexKey(prefixUnfinished, d.WebhookID, d.EventSeq)
	switch {
	case !outbox.Finished(d.Status):
		return txn.Set(uk, encodeWaiting(d))
	case oldStatus == "" || !outbox.Finished(oldStatus):
		return txn.Delete(uk)
	}
	return nil
}

// The value of a u/ entry is what the scheduler needs to queue the
// delivery without reading its record: a format byte, whether it is
// parked, and its due time (unix nanoseconds, 0 for now). Entries written
// before this format have an empty value; Waiting reads their record.
const waitingFormat = 1

func encodeWaiting(d *outbox.Delivery) []byte {
	v := make([]byte, 10)
	v[0] = waitingFormat
	if d.Status == outbox.StatusParked {
		v[1] = 1
	}
	if !d.NextAttemptAt.IsZero() {
		binary.BigEndian.PutUint64(v[2:], uint64(d.NextAttemptAt.UnixNano()))
	}
	return v
}

// Waiting calls fn for every unfinished delivery (pending, failed or
// parked), webhook by webhook in event order, streaming: it reads the u/
// index and, for entries of the current format, no record. The delivery
// engine rebuilds its schedule from this at start, so a million waiting
// deliveries cost one pass over a small index, not a million records.
func (s *Store) Waiting(ctx context.Context, fn func(outbox.Waiting) error) error {
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixUnfinished})
		defer it.Close()
		var wh string
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%4096 == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			k := it.Item().Key()
			rest := k[len(prefixUnfinished):]
			sep := bytes.IndexByte(rest, 0)
			if sep < 0 || len(rest)-sep-1 != len(event.Seq{}) {
				continue
			}
			if string(rest[:sep]) != wh {
				wh = string(rest[:sep]) // one string per webhook, not per entry
			}
			w := outbox.Waiting{WebhookID: wh}
			copy(w.EventSeq[:], rest[sep+1:])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			switch {
			case len(v) == 10 && v[0] == waitingFormat:
				w.Parked = v[1] == 1
				if ns := binary.BigEndian.Uint64(v[2:]); ns != 0 {
					w.Due = time.Unix(0, int64(ns))
				}
			default:
				d, err := getDelivery(txn, w.EventSeq, wh)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				w.Parked, w.Due = d.Status == outbox.StatusParked, d.NextAttemptAt
			}
			if err := fn(w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: scan waiting deliveries: %w", err)
	}
	return nil
}

// getDelivery reads one delivery record in txn.
func getDelivery(txn *badger.Txn, seq event.Seq, wh string) (outbox.Delivery, error) {
	k := deliveryKey(seq, wh)
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return outbox.Delivery{}, ErrNotFound
	}
	if err != nil {
		return outbox.Delivery{}, err
	}
	var d outbox.Delivery
	err = item.Value(func(v []byte) error {
		var derr error
		d, derr = decodeDelivery(k, v)
		return derr
	})
	return d, err
}

func decodeDelivery(k, v []byte) (outbox.Delivery, error) {
	var d outbox.Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("decode delivery %q: %w", k, err)
	}
	copy(d.EventSeq[:], k[len(prefixDelivery):])
	return d, nil
}

// Delivery returns one delivery by id.
func (s *Store) Delivery(ctx context.Context, id string) (outbox.Delivery, error) {
	var d outbox.Delivery
	seq, wh, ok := outbox.ParseID(id)
	if !ok {
		return d, ErrNotFound
	}
	if err := ctxErr(ctx); err != nil {
		return d, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		d, err = getDelivery(txn, seq, wh)
		return err
	})
	return d, err
}

// Attempts returns the attempts of a delivery, oldest first.
func (s *Store) Attempts(ctx context.Context, seq event.Seq, wh string) ([]outbox.Attempt, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []outbox.Attempt
	prefix := key(prefixAttempt, seq[:], []byte(wh), []byte{0})
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var a outbox.Attempt
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: attempts: %w", err)
	}
	return out, nil
}

// DeliveryQuery selects deliveries for listing, newest event first.
type DeliveryQuery struct {
	WebhookID string
	EventSeq  *event.Seq
	Status    string
	// After continues a listing: the id of the last delivery returned.
	After string
	Limit int
}

// Deliveries lists deliveries matching q, newest event first.
func (s *Store) Deliveries(ctx context.Context, q DeliveryQuery) (out []outbox.Delivery, more bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	if q.Limit < 1 {
		q.Limit = 1
	}
	var prefix, upper []byte
	switch {
	case q.EventSeq != nil:
		prefix = key(prefixDelivery, q.EventSeq[:])
	case q.WebhookID != "":
		prefix = key(prefixByWebhook, []byte(q.WebhookID), []byte{0})
	default:
		prefix = prefixDelivery
	}
	upper = key(prefix, bytes.Repeat([]byte{0xff}, 17))
	if q.After != "" {
		seq, wh, ok := outbox.ParseID(q.After)
		if !ok {
			return nil, false, fmt.Errorf("store: bad delivery cursor")
		}
		if q.WebhookID != "" && q.EventSeq == nil {
			upper = webhookIndexKey(prefixByWebhook, wh, seq)
		} else {
			upper = deliveryKey(seq, wh)
		}
	}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(upper); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if bytes.Equal(k, upper) {
				continue
			}
			var d outbox.Delivery
			if bytes.HasPrefix(k, prefixByWebhook) {
				if q.Status != "" {
					st, err := it.Item().ValueCopy(nil)
					if err != nil {
						return err
					}
					if string(st) != q.Status {
						continue
					}
				}
				var seq event.Seq
				copy(seq[:], k[len(k)-16:])
				item, err := txn.Get(deliveryKey(seq, q.WebhookID))
				if err != nil {
					return err
				}
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				if d, err = decodeDelivery(item.Key(), v); err != nil {
					return err
				}
			} else {
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if d, err = decodeDelivery(k, v); err != nil {
					return err
				}
				if q.WebhookID != "" && d.WebhookID != q.WebhookID {
					continue
				}
			}
			if q.Status != "" && d.Status != q.Status {
				continue
			}
			if len(out) == q.Limit {
				more = true
				return nil
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: list deliveries: %w", err)
	}
	return out, more, nil
}

// Unfinished calls fn for every unfinished delivery (pending, failed or
// parked) of webhook wh, or of every webhook if wh is empty, in event order
// per webhook. The scheduler rebuilds itself from this at start.
func (s *Store) Unfinished(ctx context.Context, wh string, fn func(outbox.Delivery) error) error {
	prefix := prefixUnfinished
	if wh != "" {
		prefix = key(prefixUnfinished, []byte(wh), []byte{0})
	}
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			sep := bytes.IndexByte(k[len(prefixUnfinished):], 0)
			if sep < 0 {
				continue
			}
			whID := k[len(prefixUnfinished) : len(prefixUnfinished)+sep]
			seq := k[len(prefixUnfinished)+sep+1:]
			keys = append(keys, key(prefixDelivery, seq, whID))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: scan unfinished deliveries: %w", err)
	}
	for start := 0; start < len(keys); start += 512 {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		end := min(start+512, len(keys))
		var batch []outbox.Delivery
		err := s.db.View(func(txn *badger.Txn) error {
			for _, k := range keys[start:end] {
				item, err := txn.Get(k)
				if errors.Is(err, badger.ErrKeyNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				d, err := decodeDelivery(k, v)
				if err != nil {
					return err
				}
				batch = append(batch, d)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: load unfinished deliveries: %w", err)
		}
		for _, d := range batch {
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// update runs fn in a read-write transaction, retrying on conflicts.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	for attempt := 0; ; attempt++ {
		err := s.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		return err
	}
}
