package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

func isServerID(id string) bool {
	_, ok := event.ParseServerID(id)
	return ok
}

// Event returns the event with the given public id.
func (s *Store) Event(ctx context.Context, id string) (event.Event, error) {
	if err := ctxErr(ctx); err != nil {
		return event.Event{}, err
	}
	var ev event.Event
	err := s.db.View(func(txn *badger.Txn) error {
		seq, ok := event.ParseServerID(id)
		if !ok {
			item, err := txn.Get(key(prefixID, []byte(id)))
			if errors.Is(err, badger.ErrKeyNotFound) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			if err := item.Value(func(v []byte) error { copy(seq[:], v); return nil }); err != nil {
				return err
			}
		}
		var err error
		ev, err = getEvent(txn, seq)
		if err == nil && ev.ID != id {
			return ErrNotFound
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: get event %q: %w", id, err)
	}
	return ev, err
}

func getEvent(txn *badger.Txn, seq event.Seq) (event.Event, error) {
	item, err := txn.Get(key(prefixEvent, seq[:]))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return event.Event{}, ErrNotFound
	}
	if err != nil {
		return event.Event{}, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return event.Event{}, err
	}
	return decodeEvent(seq, v)
}

// Query selects events for listing, newest first.
type Query struct {
	// Type, if set, selects events of exactly this type.
	Type string
	// Since and Until, if not zero, bound the event time (both inclusive).
	Since, Until time.Time
	// Before, if not zero, continues a listing: only events with a smaller
	// seq are returned.
	Before event.Seq
	// Limit is the page size (at least 1).
	Limit int
	// MaxBytes, if not zero, also ends the page once the events in it hold
	// that much data (the page has at least one event), so that a page of
	// large events does not have to sit in memory whole.
	MaxBytes int
}

// Events lists events matching q, newest first. more reports whether another
// page follows; its cursor is the Seq of the last event returned.
func (s *Store) Events(ctx context.Context, q Query) (evs []event.Event, more bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return nil, false, err
	}
	if q.Limit < 1 {
		q.Limit = 1
	}
	prefix := prefixEvent
	if q.Type != "" {
		prefix = key(prefixType, []byte(q.Type), []byte{0})
	}
	// Upper bound (exclusive): the cursor, or the millisecond after Until.
	var upper []byte
	switch {
	case !q.Before.IsZero():
		upper = key(prefix, q.Before[:])
	case !q.Until.IsZero():
		next := event.SeqAt(q.Until.Add(time.Millisecond))
		upper = key(prefix, next[:])
	default:
		upper = key(prefix, bytes.Repeat([]byte{0xff}, len(event.Seq{})))
	}
	var lower []byte
	if !q.Since.IsZero() {
		s := event.SeqAt(q.Since)
		lower = key(prefix, s[:])
	}
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix, PrefetchValues: q.Type == "", PrefetchSize: min(q.Limit+1, prefetchEvents)})
		defer it.Close()
		size := 0
		for it.Seek(upper); it.Valid(); it.Next() {
			k := it.Item().Key()
			if bytes.Equal(k, upper) {
				continue
			}
			if lower != nil && bytes.Compare(k, lower) < 0 {
				break
			}
			var seq event.Seq
			copy(seq[:], k[len(k)-len(seq):])
			var ev event.Event
			var err error
			if q.Type == "" {
				var v []byte
				if v, err = it.Item().ValueCopy(nil); err == nil {
					ev, err = decodeEvent(seq, v)
				}
			} else {
				ev, err = getEvent(txn, seq)
			}
			if err != nil {
				return err
			}
			if (!q.Until.IsZero() && ev.Time.After(q.Until)) || (!q.Since.IsZero() && ev.Time.Before(q.Since)) {
				continue
			}
			if len(evs) == q.Limit || q.MaxBytes > 0 && size >= q.MaxBytes {
				more = true
				return nil
			}
			evs = append(evs, ev)
			size += len(ev.Data)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store: list events: %w", err)
	}
	return evs, more, nil
}

// prefetchEvents is how many values an event iterator reads ahead: a few,
// because events may be large (1 MiB each at the default body limit).
const prefetchEvents = 16

// readAfterMaxBytes ends a ReadAfter batch once it holds this much event
// data, whatever max says, so that replaying a log of large events holds
// one bounded batch at a time.
const readAfterMaxBytes = 8 << 20

// ReadAfter returns up to max events committed after seq after, oldest
// first, and fewer once they hold about 8 MiB of data (at least one). It
// is how the bus tails the log.
func (s *Store) ReadAfter(ctx context.Context, after event.Seq, max int) ([]event.Event, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var evs []event.Event
	start := key(prefixEvent, after[:])
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefixEvent, PrefetchValues: true, PrefetchSize: min(max, prefetchEvents)})
		defer it.Close()
		size := 0
		for it.Seek(start); it.Valid() && len(evs) < max && size < readAfterMaxBytes; it.Next() {
			k := it.Item().Key()
			if bytes.Equal(k, start) {
				continue
			}
			var seq event.Seq
			copy(seq[:], k[len(prefixEvent):])
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			ev, err := decodeEvent(seq, v)
			if err != nil {
				return err
			}
			evs = append(evs, ev)
			size += len(ev.Data)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: read log: %w", err)
	}
	return evs, nil
}

// LastSeq returns the seq of the newest stored event (zero if none).
func (s *Store) LastSeq(ctx context.Context) (event.Seq, error) {
	if err := ctxErr(ctx); err != nil {
		return event.Seq{}, err
	}
	return s.lastSeq()
}

// Cursor returns the dispatch cursor saved under name (zero if none).
func (s *Store) Cursor(ctx context.Context, name string) (event.Seq, error) {
	var seq event.Seq
	if err := ctxErr(ctx); err != nil {
		return seq, err
	}
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key(prefixCursor, []byte(name)))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { copy(seq[:], v); return nil })
	})
	if err != nil {
		return seq, fmt.Errorf("store: read cursor %q: %w", name, err)
	}
	return seq, nil
}

// SetCursor saves the dispatch cursor of name. If a crash loses the write,
// the cursor is a little behind on restart and the events after it are
// dispatched again: at-least-once, never lost.
func (s *Store) SetCursor(ctx context.Context, name string, seq event.Seq) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(key(prefixCursor, []byte(name)), seq[:])
	})
	if err != nil {
		return fmt.Errorf("store: save cursor %q: %w", name, err)
	}
	return nil
}
