package delivery

import (
	"errors"
	"time"

	"github.com/eventgw/gateway/gateway/internal/store"
)

// work performs attempts until the jobs channel closes.
func (e *Engine) work() {
	defer e.workers.Done()
	for j := range e.jobs {
		e.results <- e.attempt(j)
	}
}

// attempt sends one delivery and records the outcome. The record is written
// before the loop learns of it, so a crash after the write never repeats
// the decision; a crash before it means the attempt is made again
// (at-least-once).
func (e *Engine) attempt(j *job) result {
	ctx := e.workCtx
	r := result{before: j.d, d: j.d}
	d := &r.d
	ev, err := e.opts.Events.EventBySeq(ctx, d.EventSeq)
	if err != nil {
		if ctx.Err() != nil {
			r.cancelled = true
			return r
		}
		if !errors.Is(err, store.ErrNotFound) {
			r.err = err
			return r
		}
		// The event is gone (retention). Nothing can be sent any more.
		d.Status, d.Note, d.UpdatedAt = store.StatusDead, "the event is no longer stored", time.Now().UTC()
		r.err = e.opts.Deliveries.UpdateDeliveries(ctx, []store.DeliveryUpdate{{Delivery: *d}})
		return r
	}
	r.o = e.sender.send(ctx, j.url, j.hdrs, ev.ID, payload(&ev), j.signer)
	if ctx.Err() != nil {
		r.cancelled = true // shutdown: leave the delivery as it was
		return r
	}
	now := time.Now().UTC()
	d.Attempts++
	d.LastStatus = r.o.status
	d.LastError = r.o.errorText()
	d.UpdatedAt = now
	d.Note = ""
	switch {
	case r.o.success():
		d.Status, d.NextAttemptAt = store.StatusSucceeded, time.Time{}
	case r.o.gone():
		d.Status, d.NextAttemptAt, d.Note = store.StatusParked, time.Time{}, "webhook disabled: endpoint answered 410 Gone"
	default:
		if next, ok := nextAttempt(j.sched, d.Attempts, now, r.o.retryAfter); ok {
			d.Status, d.NextAttemptAt = store.StatusFailed, next
		} else {
			d.Status, d.NextAttemptAt = store.StatusDead, time.Time{}
		}
	}
	a := &store.Attempt{
		N:          d.Attempts,
		StartedAt:  r.o.started.UTC(),
		DurationMS: float64(r.o.duration.Microseconds()) / 1000,
		StatusCode: r.o.status,
		Headers:    r.o.headers,
		Body:       r.o.body,
		Error:      d.LastError,
	}
	r.err = e.opts.Deliveries.UpdateDeliveries(ctx, []store.DeliveryUpdate{{Delivery: *d, Attempt: a}})
	return r
}
