package delivery

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// WebhookChanged tells the engine that webhook id was created, changed or
// deleted through the API. Enabling a disabled webhook resumes its parked
// deliveries in event order; disabling one parks what it has queued.
func (e *Engine) WebhookChanged(ctx context.Context, id string) error {
	// The store already holds the change: finish applying it even if the
	// caller gives up, or the engine and the store would disagree.
	ctx = context.WithoutCancel(ctx)
	var rerr error
	deleted := false
	err := e.do(ctx, func() {
		// Read inside the loop, so that this and the engine's own changes
		// (a 410, an auto-disable) apply in the order they were stored.
		w, err := e.opts.Webhooks.Webhook(ctx, id)
		deleted = errors.Is(err, store.ErrNotFound)
		if err != nil && !deleted {
			rerr = fmt.Errorf("delivery: reload webhook %s: %w", id, err)
			return
		}
		q := e.queues[id]
		switch {
		case deleted:
			if q != nil {
				e.drain(q)
			}
			delete(e.queues, id)
		case q == nil:
			e.queues[id] = e.newQueue(w)
		default:
			wasEnabled := q.wh.Enabled
			e.configure(q, w)
			if wasEnabled && !w.Enabled {
				e.park(ctx, e.drain(q), "disabled through the API")
			}
			if !wasEnabled && w.Enabled {
				// A fresh start: the failures that led to the disable
				// must not disable it again at the first new failure.
				q.failures, q.trips, q.openUntil, q.failingSince = 0, 0, time.Time{}, time.Time{}
				// On the loop, in the same step as enabling: a fan-out
				// that saw the webhook disabled and created a parked
				// delivery is then either found here or, if it comes
				// later, resumed by enqueue.
				rerr = e.resumeParked(ctx, q)
			}
		}
		e.publishHooks()
	})
	switch {
	case err != nil:
		return err
	case rerr != nil:
		return rerr
	case deleted:
		return e.closeDeleted(ctx, id)
	}
	return nil
}

// closeDeleted finishes the unfinished deliveries of a deleted webhook: they
// become dead with a note, so retention can remove them and nothing waits
// for an endpoint that no longer exists.
func (e *Engine) closeDeleted(ctx context.Context, id string) error {
	now := time.Now().UTC()
	_, err := e.rewriteUnfinished(ctx, id, "", func(d *outbox.Delivery) {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = outbox.StatusDead, "webhook deleted", time.Time{}, now
	})
	if err != nil {
		return fmt.Errorf("delivery: close deliveries of deleted webhook %s: %w", id, err)
	}
	return nil
}

// rewriteUnfinished applies set to every unfinished delivery of webhook id
// (only those in status only, if given) and writes them back. It returns
// the updates it wrote.
func (e *Engine) rewriteUnfinished(ctx context.Context, id, only string, set func(d *outbox.Delivery)) ([]outbox.Update, error) {
	var us []outbox.Update
	err := e.opts.Deliveries.Unfinished(ctx, id, func(d outbox.Delivery) error {
		if only == "" || d.Status == only {
			set(&d)
			us = append(us, outbox.Update{Delivery: d})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return us, e.opts.Deliveries.UpdateDeliveries(ctx, us)
}

// resumeParked turns the parked deliveries of q's webhook pending again and
// queues them in event order. It runs on the loop.
func (e *Engine) resumeParked(ctx context.Context, q *queue) error {
	now := time.Now().UTC()
	us, err := e.rewriteUnfinished(ctx, q.wh.ID, outbox.StatusParked, func(d *outbox.Delivery) {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = outbox.StatusPending, "", time.Time{}, now
	})
	if err != nil {
		return fmt.Errorf("delivery: resume %s: %w", q.wh.ID, err)
	}
	for i := range us {
		q.push(us[i].Delivery)
	}
	return nil
}

// DiscardParked drops the parked deliveries of a webhook: they become dead
// with a note saying so, which keeps a record of the decision.
func (e *Engine) DiscardParked(ctx context.Context, id string) (int, error) {
	ctx = context.WithoutCancel(ctx)
	now := time.Now().UTC()
	us, err := e.rewriteUnfinished(ctx, id, outbox.StatusParked, func(d *outbox.Delivery) {
		d.Status, d.Note, d.UpdatedAt = outbox.StatusDead, "discarded through the API while the webhook was disabled", now
	})
	if err != nil {
		return 0, fmt.Errorf("delivery: discard parked deliveries of %s: %w", id, err)
	}
	return len(us), nil
}

// Errors of Retry and Replay.
var (
	// ErrWebhookDisabled is returned when a retry or replay targets a
	// webhook that is disabled or gone.
	ErrWebhookDisabled = errors.New("delivery: webhook is disabled or deleted")
	// ErrEventStopped is returned when a retry targets an event the plugin
	// pipeline stopped (a filter denied it, or a global transform dropped
	// it); the wrapping error says which plugin did.
	ErrEventStopped = errors.New("delivery: the plugin pipeline stopped the event, so it is never delivered")
)

// Retry makes one more attempt of d as soon as a worker is free. A delivery
// that was finished (succeeded, dead or dropped) becomes pending again. A
// delivery of an event the plugin pipeline stopped is refused with
// ErrEventStopped.
func (e *Engine) Retry(ctx context.Context, d outbox.Delivery) (outbox.Delivery, error) {
	ctx = context.WithoutCancel(ctx)
	stopped, err := e.opts.Events.Stopped(ctx, []event.Seq{d.EventSeq})
	if err != nil {
		return d, fmt.Errorf("delivery: retry %s: %w", d.ID(), err)
	}
	if why, ok := stopped[d.EventSeq]; ok {
		return d, fmt.Errorf("%w: %s", ErrEventStopped, why)
	}
	reopen := outbox.Finished(d.Status) || d.Status == outbox.StatusParked
	if reopen {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = outbox.StatusPending, "retry requested through the API", time.Time{}, time.Now().UTC()
		d.ScheduleBase = d.Attempts // a reopened delivery gets the whole retry schedule again
	}
	var ok bool
	var perr error
	err = e.do(ctx, func() {
		q := e.queues[d.WebhookID]
		if ok = q != nil && q.wh.Enabled; !ok {
			return
		}
		// Recorded before it is queued: once queued, a worker may record
		// the attempt's outcome, which this write must not overwrite.
		if reopen {
			if perr = e.opts.Deliveries.UpdateDeliveries(ctx, []outbox.Update{{Delivery: d}}); perr != nil {
				return
			}
		}
		e.retryNow(d)
	})
	switch {
	case err != nil:
		return d, err
	case !ok:
		return d, ErrWebhookDisabled
	}
	return d, perr
}

// ReplayResult counts what a replay did.
type ReplayResult struct {
	// Replayed deliveries are pending again (or new).
	Replayed int `json:"replayed"`
	// Skipped counts the events the plugin pipeline stopped (denied by a
	// filter, or dropped by a global transform): they are never delivered,
	// so a replay leaves them out.
	Skipped int `json:"skipped"`
	// NotYetDispatched counts the events fan-out has not handled yet: the
	// plugin pipeline has not judged them, so a replay must not send them.
	// Fan-out delivers them itself, once, if the pipeline lets them through.
	NotYetDispatched int `json:"not_yet_dispatched"`
}

// Replay re-delivers the given deliveries (existing or new) to their
// webhook, with the same webhook-id as before (the event id). Deliveries
// of events the plugin pipeline stopped are left out and counted, and so
// are those of events fan-out has not handled yet: the pipeline has not
// judged them, and fan-out delivers them itself.
func (e *Engine) Replay(ctx context.Context, wh webhook.Webhook, given []outbox.Delivery) (ReplayResult, error) {
	ctx = context.WithoutCancel(ctx)
	var res ReplayResult
	// Read before the outcomes: an event at or before the cursor has had
	// its outcome stored (fan-out stores it before the bus saves the
	// cursor), so Stopped below sees every stopped one.
	dispatched, err := e.opts.Events.Cursor(ctx, SubscriptionName)
	if err != nil {
		return res, fmt.Errorf("delivery: replay %s: %w", wh.ID, err)
	}
	seqs := make([]event.Seq, len(given))
	for i := range given {
		seqs[i] = given[i].EventSeq
	}
	stopped, err := e.opts.Events.Stopped(ctx, seqs)
	if err != nil {
		return res, fmt.Errorf("delivery: replay %s: %w", wh.ID, err)
	}
	now := time.Now().UTC()
	ds := make([]outbox.Delivery, 0, len(given))
	us := make([]outbox.Update, 0, len(given))
	for _, d := range given {
		if bytes.Compare(d.EventSeq[:], dispatched[:]) > 0 {
			res.NotYetDispatched++
			continue
		}
		if _, ok := stopped[d.EventSeq]; ok {
			res.Skipped++
			continue
		}
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = outbox.StatusPending, "replayed through the API", time.Time{}, now
		d.ScheduleBase = d.Attempts // the whole retry schedule again
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		ds = append(ds, d)
		us = append(us, outbox.Update{Delivery: d})
	}
	res.Replayed = len(ds)
	var ok bool
	var werr error
	err = e.do(ctx, func() {
		q := e.queues[wh.ID]
		if ok = q != nil && q.wh.Enabled; !ok {
			return
		}
		// Written on the loop after the check, so a webhook disabled in
		// between never gets pending deliveries that no queue holds.
		if _, werr = e.opts.Deliveries.CreateDeliveries(ctx, ds); werr != nil {
			return
		}
		if werr = e.opts.Deliveries.UpdateDeliveries(ctx, us); werr != nil {
			return
		}
		queued := make(map[event.Seq]int, len(q.items.list))
		for i, it := range q.items.list {
			queued[it.d.EventSeq] = i
		}
		for _, d := range ds {
			switch i, inQueue := queued[d.EventSeq]; {
			case q.busy[d.EventSeq]:
			case inQueue:
				q.items.list[i].d, q.items.list[i].due = d, time.Time{}
			default:
				q.push(d)
			}
		}
		heap.Init(&q.items)
	})
	switch {
	case err != nil:
		return ReplayResult{}, err
	case !ok:
		return ReplayResult{}, ErrWebhookDisabled
	case werr != nil:
		return ReplayResult{}, werr
	}
	return res, nil
}

// TransformsChanged tells the engine that the loaded plugins changed (one
// was uploaded, replaced or deleted). Webhooks held because their
// transform plugin was missing look again at once, instead of at their
// next re-check: their hold ends and the deliveries it sent back are due.
// A pause the receiver asked for (Retry-After) stays.
func (e *Engine) TransformsChanged(ctx context.Context) error {
	return e.do(ctx, func() {
		for _, q := range e.queues {
			if len(q.held) == 0 {
				continue
			}
			if strings.HasPrefix(q.pauseReason, transformPausePrefix) {
				q.pausedUntil, q.pauseReason = time.Time{}, ""
			}
			for i := range q.items.list {
				if q.held[q.items.list[i].d.EventSeq] {
					q.items.list[i].due = time.Time{}
				}
			}
			heap.Init(&q.items)
			q.misses = 0
			clear(q.held)
		}
	})
}

// Pause is a hold on every delivery of one webhook.
type Pause struct {
	Until  time.Time
	Reason string
}

// Paused returns the pause that holds back webhook id's deliveries now, or
// the zero Pause if none does.
func (e *Engine) Paused(ctx context.Context, id string) (Pause, error) {
	var p Pause
	err := e.do(ctx, func() {
		if q := e.queues[id]; q != nil && time.Now().Before(q.pausedUntil) {
			p = Pause{Until: q.pausedUntil, Reason: q.pauseReason}
		}
	})
	return p, err
}
