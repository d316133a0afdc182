package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
)

// sweepBatch is how many events one sweep transaction examines.
const sweepBatch = 64

// SweepResult counts what one Sweep removed and kept.
type SweepResult struct {
	Events     int // events removed with their indexes
	Deliveries int // deliveries removed with their attempts
	Kept       int // old events kept because a delivery is still unfinished
}

// Sweep removes events older than cutoff, with their deliveries and
// attempts, once nothing needs them: every durable subscriber has passed
// the event (dispatched reports that) and every delivery of it is finished
// (succeeded, dead or dropped). An old event with a parked or retrying delivery is
// kept, so retention never loses work. Idempotency keys expire on their own
// (Badger TTL).
//
// It walks the log from the oldest event and stops at the first event newer
// than cutoff or not yet dispatched.
func (s *Store) Sweep(ctx context.Context, cutoff time.Time, dispatched func(event.Seq) bool) (SweepResult, error) {
	var res SweepResult
	limit := event.SeqAt(cutoff)
	after := event.Seq{}
	for {
		if err := ctxErr(ctx); err != nil {
			return res, err
		}
		evs, err := s.ReadAfter(ctx, after, sweepBatch)
		if err != nil {
			return res, err
		}
		var old []event.Event
		for _, ev := range evs {
			if bytes.Compare(ev.Seq[:], limit[:]) >= 0 || !dispatched(ev.Seq) {
				break
			}
			old = append(old, ev)
		}
		if err := s.sweepBatch(old, &res); err != nil {
			return res, fmt.Errorf("store: sweep: %w", err)
		}
		// ReadAfter may return fewer than sweepBatch before the end of the
		// log (it stops at about 8 MiB of data): only none means the end.
		if len(old) < len(evs) || len(evs) == 0 {
			return res, nil
		}
		after = old[len(old)-1].Seq
	}
}

// sweepBatch removes evs in one transaction, or in smaller ones when an
// event has too many deliveries and attempts for one.
func (s *Store) sweepBatch(evs []event.Event, res *SweepResult) error {
	if len(evs) == 0 {
		return nil
	}
	var r SweepResult
	err := s.update(func(txn *badger.Txn) error {
		var err error
		r, err = sweepEvents(txn, evs)
		return err
	})
	if errors.Is(err, badger.ErrTxnTooBig) && len(evs) > 1 {
		half := len(evs) / 2
		if err := s.sweepBatch(evs[:half], res); err != nil {
			return err
		}
		return s.sweepBatch(evs[half:], res)
	}
	if err == nil {
		res.Events += r.Events
		res.Deliveries += r.Deliveries
		res.Kept += r.Kept
	}
	return err
}

func sweepEvents(txn *badger.Txn, evs []event.Event) (SweepResult, error) {
	var res SweepResult
	for _, ev := range evs {
		// Collect the event's deliveries; keep everything if one is unfinished.
		var ds []outbox.Delivery
		it := txn.NewIterator(badger.IteratorOptions{Prefix: key(prefixDelivery, ev.Seq[:]), PrefetchValues: true})
		var derr error
		for it.Rewind(); it.Valid(); it.Next() {
			var d outbox.Delivery
			if derr = it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); derr != nil {
				break
			}
			d.EventSeq = ev.Seq
			ds = append(ds, d)
		}
		it.Close()
		if derr != nil {
			return res, derr
		}
		unfinished := false
		for _, d := range ds {
			unfinished = unfinished || !outbox.Finished(d.Status)
		}
		if unfinished {
			res.Kept++
			continue
		}
		for _, d := range ds {
			if err := deleteDelivery(txn, &d); err != nil {
				return res, err
			}
			res.Deliveries++
		}
		dels := [][]byte{key(prefixEvent, ev.Seq[:]), typeKey(ev.Type, ev.Seq), key(prefixOutcome, ev.Seq[:])}
		if !isServerID(ev.ID) {
			dels = append(dels, key(prefixID, []byte(ev.ID)))
		}
		for _, k := range dels {
			if err := txn.Delete(k); err != nil {
				return res, err
			}
		}
		res.Events++
	}
	return res, nil
}

func deleteDelivery(txn *badger.Txn, d *outbox.Delivery) error {
	dels := [][]byte{
		deliveryKey(d.EventSeq, d.WebhookID),
		webhookIndexKey(prefixByWebhook, d.WebhookID, d.EventSeq),
		webhookIndexKey(prefixUnfinished, d.WebhookID, d.EventSeq),
	}
	for n := 1; n <= d.Attempts; n++ {
		dels = append(dels, attemptKey(d.EventSeq, d.WebhookID, n))
	}
	for _, k := range dels {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// CollectGarbage asks Badger to rewrite value-log files that are mostly
// stale. It is cheap when there is nothing to do. It syncs before Badger
// deletes a file it rewrote (collectGarbage), with or without Options.Sync:
// what a rewrite moves are values acknowledged long ago.
func (s *Store) CollectGarbage() {
	if s.opts.Memory {
		return
	}
	if _, err := collectGarbage(s.db, func() error { return s.syncWrites(true) }); err != nil {
		s.opts.Logger.Error("store: value log GC: the values it moved could not be synced before the files they came from were deleted", "err", err)
	}
}

// collectGarbage runs value log GC on db until there is nothing left to
// rewrite, and reports whether it rewrote a file. Badger rewrites the live
// values of a file into the newest value log, then deletes the file; with
// SyncWrites off the rewrites are not on disk yet, so a power cut after the
// delete would lose those values. A delete is put off while an iterator is
// open (valueLog.rewrite, decrIteratorCount), so collectGarbage holds one
// open across the rewrites and closes it only after sync, which must cover
// the value log.
func collectGarbage(db *badger.DB, sync func() error) (bool, error) {
	txn := db.NewTransaction(false)
	defer txn.Discard()
	hold := txn.NewIterator(badger.IteratorOptions{})
	defer hold.Close() // before txn.Discard: deferred calls run last first
	rewrote := false
	for db.RunValueLogGC(0.5) == nil {
		rewrote = true
	}
	if !rewrote {
		return false, nil
	}
	return true, sync()
}
