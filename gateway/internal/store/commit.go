package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

// maxGroupReqs caps the requests in one group commit. A group is also kept
// within half of Badger's limits on one transaction (Store.groupBytes and
// Store.groupEntries). A group past those limits fails with
// badger.ErrTxnTooBig and falls back to commitEach: one transaction per
// request, and one sync for them all.
const maxGroupReqs = 1024

// entryOverhead is what one event adds, in Badger's estimate of a
// transaction's size, to the bytes of its fields: the keys, the record
// header, and 12 bytes of metadata and version for each of up to four
// entries (e/, t/, i/, k/).
const entryOverhead = 200

// Draft is an event to append, as decoded from a request.
type Draft struct {
	// ID is the client-supplied id, or "" for a server-assigned one.
	ID     string
	Type   string
	Source string
	// Data is the raw JSON. The store keeps the slice; do not modify it.
	Data []byte
	// CloudEvent is event.Event.CloudEvent: a JSON object, or nil. It is
	// not part of the idempotency key's request hash (source and id name a
	// CloudEvent).
	CloudEvent []byte
	// IdemKey, if not empty, makes the append idempotent: while the key is
	// remembered, appending it again returns the first event instead.
	IdemKey string
	// LegacyIdemKey, if not empty, is the form IdemKey had before a change
	// of namespace (Idempotency-Key headers scoped per API key). It is
	// looked up when IdemKey is not found, so that a retry across an
	// upgrade still replays, and is never written.
	LegacyIdemKey string
}

// Appended is the outcome of one Draft.
type Appended struct {
	Event event.Event
	// Replayed is true when the draft's IdemKey was already known and Event
	// is the original.
	Replayed bool
}

type appendReq struct {
	drafts  []Draft
	hashes  [][sha256.Size]byte
	size    int // Badger's estimate of the bytes the drafts write
	entries int // Badger entries the drafts write, at most
	// values is true if an event may be big enough for the value log
	// (valueThreshold): its sync must cover the value log too.
	values bool
	res    []Appended
	err    error
	done   chan struct{}
}

// newAppendReq measures drafts and hashes the ones with an idempotency key.
func newAppendReq(drafts []Draft) *appendReq {
	r := &appendReq{drafts: drafts, done: make(chan struct{})}
	r.hashes = make([][sha256.Size]byte, len(drafts))
	for i, d := range drafts {
		// The type is written in the record and the t/ key, the id in the
		// record and the i/ key. The record alone is less than this.
		size := len(d.Data) + len(d.CloudEvent) + 2*len(d.Type) + 2*len(d.ID) + len(d.Source) + len(d.IdemKey) + entryOverhead
		r.size += size
		r.values = r.values || size >= valueThreshold
		r.entries += 2 // e/ and t/
		if d.ID != "" {
			r.entries++ // i/
		}
		if d.IdemKey != "" {
			r.entries++ // k/
			r.hashes[i] = requestHash(d)
		}
	}
	return r
}

// Append stores drafts atomically: either every draft is stored (or replayed)
// or none is. It returns once the commit is durable. The result has one entry
// per draft, in order.
func (s *Store) Append(ctx context.Context, drafts []Draft) ([]Appended, error) {
	r := newAppendReq(drafts)
	if s.opts.Space != nil {
		if err := s.opts.Space.Admit(int64(r.size)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoSpace, err)
		}
	}
	// Check stop first: once it is closed, select would still pick the queue
	// half of the time.
	select {
	case <-s.stop:
		return nil, ErrClosed
	default:
	}
	select {
	case s.queue <- r:
	case <-s.stop:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	}
	// Once queued the request will be answered, so wait for it even if ctx
	// ends: the caller must learn whether the events were stored.
	select {
	case <-r.done:
	case <-s.done:
		// The committer has stopped. It answers every request it takes
		// before it stops, so one still unanswered now was queued after its
		// final drain (Close raced with this Append) and was never written.
		select {
		case <-r.done:
		default:
			return nil, ErrClosed
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.res, nil
}

func (s *Store) commitLoop() {
	defer close(s.done)
	group := make([]*appendReq, 0, maxGroupReqs)
	// next was taken from the queue but did not fit into the last group; it
	// starts the next one.
	var next *appendReq
	for {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-s.queue:
			case <-s.stop:
				// Answer whatever is still queued, then stop.
				for {
					select {
					case r := <-s.queue:
						s.commitGroup([]*appendReq{r})
					default:
						return
					}
				}
			}
		}
		group = append(group[:0], first)
		size, entries := first.size, first.entries
	drain:
		for len(group) < maxGroupReqs {
			select {
			case r := <-s.queue:
				if size+r.size > s.groupBytes || entries+r.entries > s.groupEntries {
					next = r
					break drain
				}
				group = append(group, r)
				size += r.size
				entries += r.entries
			default:
				break drain
			}
		}
		s.commitGroup(group)
	}
}

// pendingKey is an idempotency key written earlier in the same transaction.
type pendingKey struct {
	hash  [sha256.Size]byte
	event event.Event
}

// commitGroup writes every request of group in one transaction, syncs it
// (settle), and only then answers the requests.
func (s *Store) commitGroup(group []*appendReq) {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	pending := make(map[string]pendingKey)
	stored := 0
	for _, r := range group {
		n, err := s.stage(txn, r, pending)
		if err != nil && !isRequestError(err) {
			// The transaction is too big, or one request cannot be written
			// (say, a value Badger refuses). Either way, give every request
			// a transaction of its own, so that only the culprit fails.
			txn.Discard()
			s.commitEach(group)
			return
		}
		r.err = err
		stored += n
	}
	if err := s.stageCount(txn, stored); err != nil {
		txn.Discard()
		s.commitEach(group)
		return
	}
	err := txn.Commit()
	if err != nil {
		err = fmt.Errorf("store: commit: %w", err)
	} else {
		s.committed(stored)
		err = s.settle(stored, anyValues(group))
	}
	s.answer(group, stored, err)
}

// commitEach is the slow path taken when a group overflows one transaction,
// or when one of its requests cannot be written: every request gets a
// transaction of its own. They are committed back to back and share one
// sync after the last (settle), before any request is answered: a sync
// covers every earlier write, and a sync per request would cost up to
// maxGroupReqs syncs for a group that merely overflowed.
func (s *Store) commitEach(group []*appendReq) {
	stored := 0
	for _, r := range group {
		r.res, r.err = nil, nil
		txn := s.db.NewTransaction(true)
		n, err := s.stage(txn, r, make(map[string]pendingKey))
		switch {
		case errors.Is(err, badger.ErrTxnTooBig):
			r.err = ErrTooLarge
		case isRequestError(err):
			r.err = err
		case err != nil:
			r.err = fmt.Errorf("store: append: %w", err)
		default:
			if err := s.stageCount(txn, n); err != nil {
				r.err = fmt.Errorf("store: append: %w", err)
			} else if err := txn.Commit(); err != nil {
				r.err = fmt.Errorf("store: commit: %w", err)
			} else {
				s.committed(n)
				stored += n
			}
		}
		txn.Discard()
	}
	s.answer(group, stored, s.settle(stored, anyValues(group)))
}

func anyValues(group []*appendReq) bool {
	for _, r := range group {
		if r.values {
			return true
		}
	}
	return false
}

// answer answers every request of a group; err, from the commit or its
// sync, fails the requests that had not failed on their own. The group
// stored stored new events.
func (s *Store) answer(group []*appendReq, stored int, err error) {
	for _, r := range group {
		if r.err == nil && err != nil {
			r.err = err
		}
		if r.err != nil {
			r.res = nil
		}
		close(r.done)
	}
	if err == nil && stored > 0 && s.opts.OnCommit != nil {
		s.opts.OnCommit()
	}
}

// stage adds r's writes to txn and fills r.res. It resolves every
// idempotency key before writing anything (resolve), so a request refused
// with ErrIdempotencyConflict or ErrIDTaken leaves no trace in txn. Any
// other error means txn must be abandoned. It returns the number of new
// events.
func (s *Store) stage(txn *badger.Txn, r *appendReq, pending map[string]pendingKey) (int, error) {
	dupOf, err := s.resolve(txn, r, pending)
	if err != nil {
		return 0, err
	}
	now := s.opts.Now().UTC()
	stored := 0
	for i, d := range r.drafts {
		if r.res[i].Replayed {
			continue
		}
		if j := dupOf[i]; j >= 0 {
			r.res[i] = Appended{Event: r.res[j].Event, Replayed: true}
			continue
		}
		seq := s.gen.NextAt(now)
		t := now
		if st := seq.Time(); st.After(now) {
			// The clock stepped back behind the log and the seq ran ahead
			// of it. Stamp the event with the seq's millisecond, so that
			// event times keep commit order and Events can bound a time
			// range by seq.
			t = st
		}
		s.staged = seq
		ev := event.Event{Seq: seq, ID: d.ID, Type: d.Type, Source: d.Source, Time: t, Data: d.Data, CloudEvent: d.CloudEvent}
		if ev.ID == "" {
			ev.ID = event.IDPrefix + seq.String()
		}
		if err := s.writeEvent(txn, &ev, d.IdemKey, r.hashes[i]); err != nil {
			return 0, err
		}
		if d.IdemKey != "" {
			pending[d.IdemKey] = pendingKey{hash: r.hashes[i], event: ev}
		}
		r.res[i] = Appended{Event: ev}
		stored++
	}
	return stored, nil
}

// stageCount adds the event counter (keyEvents), raised by the n events
// staged in txn, to txn, so that the counter is exactly as durable as the
// events.
func (s *Store) stageCount(txn *badger.Txn, n int) error {
	if n == 0 {
		return nil
	}
	return txn.Set(keyEvents, encodeCount(s.events+uint64(n)))
}

// committed records that a transaction with n new events, the last of them
// s.staged, is committed. They are acknowledged once settle has synced
// them.
func (s *Store) committed(n int) {
	if n == 0 {
		return
	}
	s.events += uint64(n)
	s.last = s.staged
}

// settle makes what the committer has committed durable, with Options.Sync,
// before any request of it is answered: one sync covers every commit since
// the last. It syncs whenever a committed event is not yet covered, also
// for a group that stored nothing new, so that a replay of an event whose
// sync failed is answered only once a later sync covers it. n is the number
// of events stored since the last settle, and values whether they may have
// values in the value log. On success it tells the integrity recorder; on
// failure those n events are never acknowledged, and the record never
// counts them (unacked), even if a later sync covers them.
func (s *Store) settle(n int, values bool) error {
	if s.opts.Sync && *s.synced.Load() != s.last {
		values = values || s.unsyncedValues
		if err := s.sync(values); err != nil {
			s.unacked += uint64(n)
			s.unsyncedValues = values
			return fmt.Errorf("%w (the events may or may not be stored; a retry with the same idempotency key stores them once): %w", ErrNotSynced, err)
		}
		s.unsyncedValues = false
	}
	if *s.synced.Load() != s.last {
		last := s.last
		s.synced.Store(&last)
	}
	if n > 0 && s.rec != nil {
		s.rec.note(committed{events: s.events - s.unacked, lastSeq: s.last})
	}
	return nil
}

// writeEvent adds one new event and its index entries to txn.
func (s *Store) writeEvent(txn *badger.Txn, ev *event.Event, idemKey string, hash [sha256.Size]byte) error {
	if err := txn.Set(key(prefixEvent, ev.Seq[:]), encodeEvent(ev)); err != nil {
		return err
	}
	if err := txn.Set(typeKey(ev.Type, ev.Seq), nil); err != nil {
		return err
	}
	if !isServerID(ev.ID) {
		if err := txn.Set(key(prefixID, []byte(ev.ID)), ev.Seq[:]); err != nil {
			return err
		}
	}
	if idemKey == "" {
		return nil
	}
	val := append(ev.Seq[:], hash[:]...)
	return txn.SetEntry(badger.NewEntry(key(prefixIdem, []byte(idemKey)), val).WithTTL(s.opts.IdempotencyWindow))
}

func typeKey(typ string, seq event.Seq) []byte {
	return key(prefixType, []byte(typ), []byte{0}, seq[:])
}

// isRequestError reports whether err refuses one request without harming
// the transaction it was staged in.
func isRequestError(err error) bool {
	return errors.Is(err, ErrIdempotencyConflict) || errors.Is(err, ErrIDTaken)
}
