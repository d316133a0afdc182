package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// The API's changes go to the writer first, which stores them and then
// tells the loop; the caller's answer comes once the loop has applied
// them. So a change is on disk before the scheduler acts on it, and the
// loop never waits for the disk.

// WebhookChanged tells the engine that webhook id was created, changed or
// deleted through the API or the config. Enabling a disabled webhook
// resumes its parked deliveries in event order; disabling one parks its
// unfinished deliveries; deleting one closes them (dead, with a note).
func (e *Engine) WebhookChanged(ctx context.Context, id string) error {
	// The store already holds the change: finish applying it even if the
	// caller gives up, or the engine and the store would disagree.
	return e.await(context.WithoutCancel(ctx), &op{kind: opWebhook, webhookID: id})
}

// DiscardParked drops the parked deliveries of a webhook: they become dead
// with a note saying so, which keeps a record of the decision.
func (e *Engine) DiscardParked(ctx context.Context, id string) (int, error) {
	o := &op{kind: opDiscard, webhookID: id}
	if err := e.await(context.WithoutCancel(ctx), o); err != nil {
		return 0, fmt.Errorf("delivery: discard parked deliveries of %s: %w", id, err)
	}
	return o.n, nil
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

// enabled reports whether webhook id exists and is enabled, as the loop
// sees it.
func (e *Engine) enabled(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := e.do(ctx, func() {
		h := e.hooks[id]
		ok = h != nil && h.wh.Enabled
	})
	return ok, err
}

// Retry makes one more attempt of d as soon as a worker is free. A delivery
// that was finished (succeeded, dead or dropped) or parked becomes pending
// again, with the whole retry schedule. A delivery of an event the plugin
// pipeline stopped is refused with ErrEventStopped.
func (e *Engine) Retry(ctx context.Context, d outbox.Delivery) (outbox.Delivery, error) {
	ctx = context.WithoutCancel(ctx)
	stopped, err := e.opts.Events.Stopped(ctx, []event.Seq{d.EventSeq})
	if err != nil {
		return d, fmt.Errorf("delivery: retry %s: %w", d.ID(), err)
	}
	if why, ok := stopped[d.EventSeq]; ok {
		return d, fmt.Errorf("%w: %s", ErrEventStopped, why)
	}
	if ok, err := e.enabled(ctx, d.WebhookID); err != nil || !ok {
		if err == nil {
			err = ErrWebhookDisabled
		}
		return d, err
	}
	o := &op{kind: opRetry, webhookID: d.WebhookID, ds: []outbox.Delivery{d}}
	if err := e.await(ctx, o); err != nil {
		return d, err
	}
	if len(o.ds) == 1 {
		d = o.ds[0]
	}
	return d, nil
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
// judged them, and fan-out delivers them itself. If the webhook is
// disabled meanwhile, the replayed deliveries are parked, not lost.
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
	ds := make([]outbox.Delivery, 0, len(given))
	for _, d := range given {
		if bytes.Compare(d.EventSeq[:], dispatched[:]) > 0 {
			res.NotYetDispatched++
			continue
		}
		if _, ok := stopped[d.EventSeq]; ok {
			res.Skipped++
			continue
		}
		ds = append(ds, d)
	}
	if ok, err := e.enabled(ctx, wh.ID); err != nil || !ok {
		if err == nil {
			err = ErrWebhookDisabled
		}
		return ReplayResult{}, err
	}
	res.Replayed = len(ds)
	if len(ds) == 0 {
		return res, nil
	}
	if err := e.await(ctx, &op{kind: opReplay, webhookID: wh.ID, ds: ds}); err != nil {
		return ReplayResult{}, err
	}
	return res, nil
}

// TransformsChanged tells the engine that the loaded plugins changed (one
// was uploaded, replaced or deleted). Webhooks held because their
// transform plugin was missing look again at once, instead of at their
// next re-check: their hold ends and the deliveries it sent back are due.
// A pause the receiver asked for (Retry-After) stays.
func (e *Engine) TransformsChanged(ctx context.Context) error {
	return e.do(ctx, func() { e.sched.ReleaseHolds(e.now()) })
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
		if until, reason, ok := e.sched.Paused(id, e.now()); ok {
			p = Pause{Until: until, Reason: reason}
		}
	})
	return p, err
}
