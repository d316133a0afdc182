package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

// integrityFile is the integrity record, kept in the data directory beside
// Badger's files but outside Badger, so that damage to Badger's files cannot
// take it along.
const integrityFile = "gateway-integrity.json"

// integrityInterval is how often, at most, the record is rewritten while
// events are committed. Events acknowledged in the last interval before a
// crash are not covered by the record: their loss would go unnoticed.
const integrityInterval = 100 * time.Millisecond

// keyEvents counts the events ever committed (big-endian uint64). The
// committer updates it in the transaction that stores the events, so it is
// exactly as durable as they are; retention does not lower it.
var keyEvents = []byte("m/events")

// ErrDataLoss means the store holds fewer events than its integrity record
// says were committed: acknowledged events are gone. Options.AcceptDataLoss
// (gateway serve --accept-data-loss) opens the store anyway.
var ErrDataLoss = errors.New("store: acknowledged events are missing")

// integrityRecord is the content of integrityFile.
type integrityRecord struct {
	// Created is when the store was first opened in this directory: the
	// marker that there is data here to lose.
	Created time.Time `json:"created"`
	// Events is how many events had been committed, durably, when the record
	// was written.
	Events uint64 `json:"events"`
	// LastSeq is the seq of the last of them, for the operator.
	LastSeq string `json:"last_seq,omitempty"`
	// Written is when the record was written, by the wall clock (not
	// Options.Now, which tests pin from their own goroutine).
	Written time.Time `json:"written"`
}

func readIntegrity(dir string) (*integrityRecord, error) {
	path := filepath.Join(dir, integrityFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read integrity record: %w", err)
	}
	var rec integrityRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.Created.IsZero() {
		return nil, fmt.Errorf("%w: integrity record %q is unreadable; it is written atomically, so something else damaged it: "+
			"run `gateway store check`, then start with gateway serve --accept-data-loss to write a new one", ErrDamaged, path)
	}
	return &rec, nil
}

// writeIntegrity replaces the record atomically: a temp file, fsync,
// rename, fsync of the directory. A crash leaves the old record or the new
// one, never a torn one.
func writeIntegrity(dir string, rec integrityRecord) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, integrityFile+".tmp*")
	if err != nil {
		return fmt.Errorf("store: write integrity record: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, integrityFile))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("store: write integrity record: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: write integrity record: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: write integrity record: sync %q: %w", dir, err)
	}
	return nil
}

// committed is what the committer has durably stored so far.
type committed struct {
	events  uint64
	lastSeq event.Seq
}

// recorder keeps the integrity record up to date without slowing the
// committer: the committer only publishes its progress (note) and wakes the
// recorder's goroutine, which rewrites the file at most every
// integrityInterval. The record therefore lags the store by up to one
// interval, which only ever makes it claim less than is on disk.
//
// Two locks, so that the file write never stalls ingest: the committer
// takes mu for a few nanoseconds per group commit to publish state; flush
// holds wmu across the sync and the file write, and takes mu only to copy
// state. The sync (only when commits are not synced) is the store's
// syncer, which takes none of Badger's locks.
type recorder struct {
	dir string
	// syncAll syncs every write so far, values too; nil when the committer
	// syncs every commit before it notes it.
	syncAll func() error
	created time.Time
	logger  interface{ Error(string, ...any) }
	// write is writeIntegrity; tests replace it to hold a write open.
	write func(dir string, rec integrityRecord) error

	// mu guards state only, and is never held across I/O: the committer
	// takes it in note, once per group commit.
	mu    sync.Mutex
	state committed

	// wmu serialises flushes (the goroutine, Close, tests) and guards
	// written and failing; it is held across the sync and the file write.
	wmu     sync.Mutex
	written uint64 // events in the file
	failing bool   // the last write failed (logged once)

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// note publishes the committer's progress. It never blocks.
func (r *recorder) note(c committed) {
	r.mu.Lock()
	r.state = c
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) loop() {
	defer close(r.done)
	for {
		select {
		case <-r.wake:
		case <-r.stop:
			return
		}
		r.flush(true)
		select {
		case <-time.After(integrityInterval):
		case <-r.stop:
			return
		}
	}
}

// flush writes the record if it is behind. Unless every commit is synced,
// it first syncs the store, so the record never claims events that a power
// cut could still take (dbOpen is false once Badger is closed, which has
// synced everything).
func (r *recorder) flush(dbOpen bool) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	c := r.state
	r.mu.Unlock()
	if c.events == r.written {
		return nil
	}
	if dbOpen && r.syncAll != nil {
		if err := r.syncAll(); err != nil {
			return r.failed(err)
		}
	}
	rec := integrityRecord{Created: r.created, Events: c.events, Written: time.Now().UTC()}
	if !c.lastSeq.IsZero() {
		rec.LastSeq = c.lastSeq.String()
	}
	if err := r.write(r.dir, rec); err != nil {
		return r.failed(err)
	}
	r.written, r.failing = c.events, false
	return nil
}

func (r *recorder) failed(err error) error {
	if !r.failing {
		r.logger.Error("store: the integrity record is not being updated; a later loss of events may go unnoticed", "err", err)
	}
	r.failing = true
	return err
}

// stopLoop stops the goroutine; call it before Badger is closed, then
// flush(false) after.
func (r *recorder) stopLoop() {
	close(r.stop)
	<-r.done
}

// eventCount reads keyEvents. A store written before the counter existed
// has none: then it counts the e/ keys once and stores the result.
func eventCount(db *badger.DB, readOnly bool) (uint64, error) {
	var n uint64
	found := false
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyEvents)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("event counter %q has %d bytes, want 8", keyEvents, len(v))
			}
			n, found = binary.BigEndian.Uint64(v), true
			return nil
		})
	})
	if err != nil || found {
		return n, err
	}
	n, err = countEvents(db)
	if err != nil || readOnly {
		return n, err
	}
	return n, db.Update(func(txn *badger.Txn) error { return txn.Set(keyEvents, encodeCount(n)) })
}

func countEvents(db *badger.DB) (uint64, error) {
	var n uint64
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixEvent})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func encodeCount(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// gapError describes a store that recovered fewer events than its record.
func gapError(dir string, rec *integrityRecord, recovered uint64, last event.Seq) error {
	upTo := "no events"
	if !last.IsZero() {
		upTo = fmt.Sprintf("%d events, the last seq %s (%s)", recovered, last, last.Time().UTC().Format(time.RFC3339))
	}
	recLast := ""
	if rec.LastSeq != "" {
		recLast = ", the last seq " + rec.LastSeq
	}
	return fmt.Errorf("%w: the store in %q recovered %s, but its integrity record (%s, written %s) says %d were committed%s: "+
		"%d acknowledged events are missing; restore the last backup (gateway store restore), "+
		"or start with what is left: gateway serve --accept-data-loss",
		ErrDataLoss, dir, upTo, integrityFile, rec.Written.Format(time.RFC3339), rec.Events, recLast, rec.Events-recovered)
}
