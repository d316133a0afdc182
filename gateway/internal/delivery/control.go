package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// WebhookChanged tells the engine that webhook id was created, changed or
// deleted through the API. Enabling a disabled webhook resumes its parked
// deliveries in event order; disabling one parks what it has queued.
func (e *Engine) WebhookChanged(ctx context.Context, id string) error {
	w, err := e.opts.Webhooks.Webhook(ctx, id)
	deleted := errors.Is(err, store.ErrNotFound)
	if err != nil && !deleted {
		return fmt.Errorf("delivery: reload webhook %s: %w", id, err)
	}
	var resume bool
	err = e.do(ctx, func() {
		q := e.queues[id]
		switch {
		case deleted:
			delete(e.queues, id)
		case q == nil:
			e.queues[id] = e.newQueue(w)
		default:
			wasEnabled := q.wh.Enabled
			e.configure(q, w)
			if wasEnabled && !w.Enabled {
				e.park(ctx, q.drain(), "disabled through the API")
			}
			resume = !wasEnabled && w.Enabled
		}
		e.publishHooks()
	})
	switch {
	case err != nil:
		return err
	case deleted:
		return e.closeDeleted(ctx, id)
	case resume:
		return e.resumeParked(ctx, id)
	}
	return nil
}

// closeDeleted finishes the unfinished deliveries of a deleted webhook: they
// become dead with a note, so retention can remove them and nothing waits
// for an endpoint that no longer exists.
func (e *Engine) closeDeleted(ctx context.Context, id string) error {
	now := time.Now().UTC()
	var us []store.DeliveryUpdate
	err := e.opts.Deliveries.Unfinished(ctx, id, func(d store.Delivery) error {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = store.StatusDead, "webhook deleted", time.Time{}, now
		us = append(us, store.DeliveryUpdate{Delivery: d})
		return nil
	})
	if err == nil {
		err = e.opts.Deliveries.UpdateDeliveries(ctx, us)
	}
	if err != nil {
		return fmt.Errorf("delivery: close deliveries of deleted webhook %s: %w", id, err)
	}
	return nil
}

// resumeParked turns the parked deliveries of a webhook pending again and
// queues them in event order.
func (e *Engine) resumeParked(ctx context.Context, id string) error {
	now := time.Now().UTC()
	var us []store.DeliveryUpdate
	err := e.opts.Deliveries.Unfinished(ctx, id, func(d store.Delivery) error {
		if d.Status == store.StatusParked {
			d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = store.StatusPending, "", time.Time{}, now
			us = append(us, store.DeliveryUpdate{Delivery: d})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delivery: resume %s: %w", id, err)
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, us); err != nil {
		return fmt.Errorf("delivery: resume %s: %w", id, err)
	}
	ds := make([]store.Delivery, len(us))
	for i := range us {
		ds[i] = us[i].Delivery
	}
	return e.do(ctx, func() { e.enqueue(ctx, ds) })
}

// DiscardParked drops the parked deliveries of a webhook: they become dead
// with a note saying so, which keeps a record of the decision.
func (e *Engine) DiscardParked(ctx context.Context, id string) (int, error) {
	now := time.Now().UTC()
	var us []store.DeliveryUpdate
	err := e.opts.Deliveries.Unfinished(ctx, id, func(d store.Delivery) error {
		if d.Status == store.StatusParked {
			d.Status, d.Note, d.UpdatedAt = store.StatusDead, "discarded through the API while the webhook was disabled", now
			us = append(us, store.DeliveryUpdate{Delivery: d})
		}
		return nil
	})
	if err == nil {
		err = e.opts.Deliveries.UpdateDeliveries(ctx, us)
	}
	if err != nil {
		return 0, fmt.Errorf("delivery: discard parked deliveries of %s: %w", id, err)
	}
	return len(us), nil
}

// ErrWebhookDisabled is returned when a retry or replay targets a webhook
// that is disabled or gone.
var ErrWebhookDisabled = errors.New("delivery: webhook is disabled or deleted")

// Retry makes one more attempt of d as soon as a worker is free. A delivery
// that was finished (succeeded or dead) becomes pending again.
func (e *Engine) Retry(ctx context.Context, d store.Delivery) (store.Delivery, error) {
	if store.Finished(d.Status) || d.Status == store.StatusParked {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = store.StatusPending, "retry requested through the API", time.Time{}, time.Now().UTC()
	}
	var ok bool
	if err := e.do(ctx, func() { ok = e.retryNow(d) }); err != nil {
		return d, err
	}
	if !ok {
		return d, ErrWebhookDisabled
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, []store.DeliveryUpdate{{Delivery: d}}); err != nil {
		return d, err
	}
	return d, nil
}

// Replay re-delivers the given deliveries (existing or new) to their
// webhook, with the same webhook-id as before (the event id).
func (e *Engine) Replay(ctx context.Context, wh webhook.Webhook, ds []store.Delivery) error {
	now := time.Now().UTC()
	us := make([]store.DeliveryUpdate, len(ds))
	for i := range ds {
		d := &ds[i]
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = store.StatusPending, "replayed through the API", time.Time{}, now
		if d.CreatedAt.IsZero() {
			d.CreatedAt = now
		}
		us[i] = store.DeliveryUpdate{Delivery: *d}
	}
	if _, err := e.opts.Deliveries.CreateDeliveries(ctx, ds); err != nil {
		return err
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, us); err != nil {
		return err
	}
	var ok bool
	err := e.do(ctx, func() {
		q := e.queues[wh.ID]
		if ok = q != nil && q.wh.Enabled; !ok {
			return
		}
		for _, d := range ds {
			if !q.busy[d.EventSeq] && q.find(d.EventSeq) < 0 {
				q.push(d)
			}
		}
	})
	if err == nil && !ok {
		err = ErrWebhookDisabled
	}
	return err
}
