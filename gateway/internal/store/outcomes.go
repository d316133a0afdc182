package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
)

// prefixOutcome keys what the plugin pipeline decided for an event:
//
//	o/<seq>   Outcome (JSON)
var prefixOutcome = []byte("o/")

// Outcome is the plugin pipeline's record for one event: the verdict of
// every stage that ran, whether the event was stopped, and the data to
// deliver when a transform replaced it.
type Outcome struct {
	Seq      event.Seq          `json:"-"`
	Verdicts []pipeline.Verdict `json:"verdicts,omitempty"`
	// Stopped: a filter denied the event or a transform dropped it.
	Stopped bool `json:"stopped,omitempty"`
	// Data replaces the event's data for delivery (nil: the original).
	Data json.RawMessage `json:"data,omitempty"`
}

// Why says which stage stopped the event, as "<plugin>: <outcome>" with
// the reason or error, if any: the last verdict, since the pipeline stops
// at the stage that stops an event. It is empty if nothing stopped it.
func (o Outcome) Why() string {
	switch {
	case !o.Stopped:
		return ""
	case len(o.Verdicts) == 0:
		return "stopped"
	}
	v := o.Verdicts[len(o.Verdicts)-1]
	s := v.Plugin + ": " + v.Outcome
	switch {
	case v.Reason != "":
		s += " (" + v.Reason + ")"
	case v.Error != "":
		s += " (error: " + v.Error + ")"
	}
	return s
}

// SaveOutcomes records pipeline outcomes, one transaction per call.
func (s *Store) SaveOutcomes(ctx context.Context, os []Outcome) error {
	if len(os) == 0 {
		return nil
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.update(func(txn *badger.Txn) error {
		for i := range os {
			v, err := json.Marshal(&os[i])
			if err != nil {
				return err
			}
			if err := txn.Set(key(prefixOutcome, os[i].Seq[:]), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: save outcomes: %w", err)
	}
	return nil
}

// Outcome returns the pipeline outcome of the event seq; ok is false when
// no plugin ran for it.
func (s *Store) Outcome(ctx context.Context, seq event.Seq) (o Outcome, ok bool, err error) {
	if err := ctxErr(ctx); err != nil {
		return o, false, err
	}
	err = s.db.View(func(txn *badger.Txn) error {
		o, ok, err = getOutcome(txn, seq)
		return err
	})
	return o, ok, err
}

func getOutcome(txn *badger.Txn, seq event.Seq) (Outcome, bool, error) {
	o := Outcome{Seq: seq}
	item, err := txn.Get(key(prefixOutcome, seq[:]))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return o, false, nil
	}
	if err != nil {
		return o, false, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &o) })
	return o, err == nil, err
}

// EventForDelivery returns the event seq as webhooks receive it (with the
// data a global transform produced, if one did) and the pipeline's outcome
// for it (the zero Outcome if no plugin ran). A caller must not send an
// event whose outcome is Stopped.
func (s *Store) EventForDelivery(ctx context.Context, seq event.Seq) (event.Event, Outcome, error) {
	if err := ctxErr(ctx); err != nil {
		return event.Event{}, Outcome{}, err
	}
	var ev event.Event
	var o Outcome
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		if ev, err = getEvent(txn, seq); err != nil {
			return err
		}
		var ok bool
		o, ok, err = getOutcome(txn, seq)
		if err == nil && ok && o.Data != nil {
			ev.Data = o.Data
		}
		return err
	})
	return ev, o, err
}

// Stopped returns, for each of seqs whose event the plugin pipeline stopped
// (a filter denied it or a global transform dropped it), why (Outcome.Why).
// Such events are never delivered. Seqs without a stored outcome are
// absent from the map.
func (s *Store) Stopped(ctx context.Context, seqs []event.Seq) (map[event.Seq]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := make(map[event.Seq]string)
	err := s.db.View(func(txn *badger.Txn) error {
		for _, seq := range seqs {
			o, ok, err := getOutcome(txn, seq)
			if err != nil {
				return err
			}
			if ok && o.Stopped {
				out[seq] = o.Why()
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: stopped events: %w", err)
	}
	return out, nil
}
