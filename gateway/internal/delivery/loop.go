package delivery

import (
	"container/heap"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// maxHeldEvents and maxHeldBytes bound the events queued deliveries carry
// in memory for their first attempt, by count and by data size: 4096
// events of 1 MiB would be 4 GiB. A delivery past either bound reads its
// event back from the store when a worker takes it.
const (
	maxHeldEvents = 4096
	maxHeldBytes  = 16 << 20
)

// maxBreakerCooldown caps how long an open circuit waits before a probe.
const maxBreakerCooldown = 10 * time.Minute

type job struct {
	d      outbox.Delivery
	ev     *outgoing // set for a first attempt right after fan-out
	url    string
	hdrs   map[string]string
	signer signer
	sched  []time.Duration
	// transform is the webhook's own transform plugin, if it names one;
	// recheck is how long the delivery waits if that plugin is not loaded.
	transform string
	recheck   time.Duration
}

type result struct {
	before    outbox.Delivery // as it was handed to the worker
	d         outbox.Delivery // as the worker left it
	o         outcome
	cancelled bool           // shutdown interrupted the attempt; nothing was recorded
	missing   string         // not sent: the webhook's transform plugin of this name is not loaded
	update    *outbox.Update // what the recorder writes
	err       error          // the outcome could not be recorded
}

// loop owns the queues; inFlight counts jobs handed to workers and not yet
// finished.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.loopDone)
	e.timer = time.NewTimer(time.Hour)
	defer e.timer.Stop()
	inFlight := 0
	for {
		inFlight = e.dispatch(inFlight)
		select {
		case f := <-e.cmds:
			f()
		case r := <-e.results:
			inFlight--
			e.finish(ctx, r)
		case <-e.timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// dispatch hands every delivery that is due, and allowed by its webhook's
// limits, to the workers, and arms the timer for the next one.
func (e *Engine) dispatch(inFlight int) int {
	now := time.Now()
	var wake time.Time
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	for _, q := range e.queues {
		if !q.wh.Enabled {
			continue
		}
		if now.Before(q.pausedUntil) {
			if q.items.Len() > 0 {
				later(q.pausedUntil)
			}
			continue
		}
		if !q.signerUntil.IsZero() && !now.Before(q.signerUntil) {
			e.configure(q, q.wh) // a previous secret's overlap has ended
		}
		for q.items.Len() > 0 {
			limit := q.maxInFlight
			if q.failures >= e.opts.BreakerFailures {
				if now.Before(q.openUntil) {
					later(q.openUntil)
					break
				}
				limit = 1 // half-open: one probe at a time
			}
			if len(q.busy) >= limit {
				break
			}
			head := &q.items.list[0]
			if head.due.After(now) {
				later(head.due)
				break
			}
			if inFlight >= e.opts.Workers {
				return inFlight // a finishing worker runs dispatch again
			}
			if ok, next := q.limit.take(now); !ok {
				later(next)
				break
			}
			it := q.pop()
			if it.ev != nil {
				e.heldEvents--
				e.heldBytes -= it.ev.size()
			}
			d := it.d
			q.busy[d.EventSeq] = true
			inFlight++
			e.jobs <- &job{d: d, ev: it.ev, url: q.wh.URL, hdrs: q.wh.Headers, signer: q.signer, sched: q.schedule,
				transform: q.wh.Delivery.Transform, recheck: transformRecheck(e.opts.TransformRecheck, q.misses)}
		}
	}
	if !wake.IsZero() {
		e.timer.Reset(max(time.Until(wake), time.Millisecond))
	}
	return inFlight
}

// finish applies the outcome of one attempt to its webhook's queue.
func (e *Engine) finish(ctx context.Context, r result) {
	q := e.queues[r.d.WebhookID]
	if q == nil {
		// The webhook was deleted while this attempt ran.
		if !outbox.Finished(r.d.Status) && !r.cancelled {
			e.closeOrphans(ctx, []outbox.Delivery{r.d})
		}
		return
	}
	delete(q.busy, r.d.EventSeq)
	switch {
	case r.cancelled || r.err != nil:
		if r.err != nil {
			e.logger.Error("recording a delivery attempt failed; it will be attempted again", "delivery", r.d.ID(), "err", r.err)
			r.before.NextAttemptAt = time.Now().Add(time.Second)
		}
		e.requeue(ctx, q, r.before)
		return
	case r.missing != "":
		// The webhook's transform is missing: hold all of its deliveries
		// until this one is due to look again. Deliveries of one round
		// (up to max_in_flight) come back together; only the first, which
		// finds no pause in place, counts as a check for the backoff.
		if !time.Now().Before(q.pausedUntil) {
			q.misses++
		}
		q.pause(r.d.NextAttemptAt, transformPausePrefix+strconv.Quote(r.missing)+" is not loaded")
		q.held[r.d.EventSeq] = true
		e.requeue(ctx, q, r.d)
		return
	}
	q.misses = 0
	delete(q.held, r.d.EventSeq)
	if r.update == nil || r.update.Attempt == nil {
		// Nothing was sent (a transform dropped it, the event is gone): the
		// endpoint neither succeeded nor failed.
		return
	}
	now := time.Now()
	if r.o.retryAfter > 0 {
		// The receiver speaks for the endpoint, not for one delivery.
		q.pause(now.Add(r.o.retryAfter), fmt.Sprintf("the endpoint answered %d with Retry-After: %s", r.o.status, r.o.headers["Retry-After"]))
	}
	switch {
	case r.o.success():
		q.failures, q.trips, q.openUntil, q.failingSince = 0, 0, time.Time{}, time.Time{}
	case r.o.gone():
		e.disable(ctx, q, "endpoint answered 410 Gone")
	default:
		q.failures++
		if q.failingSince.IsZero() {
			q.failingSince = r.o.started
		}
		if q.failures >= e.opts.BreakerFailures {
			q.trips++
			q.openUntil = now.Add(breakerCooldown(q.schedule, q.trips))
			if q.openUntil.Before(q.pausedUntil) {
				q.openUntil = q.pausedUntil // the first probe waits for the pause
			}
		}
		if now.Sub(q.failingSince) >= e.opts.DisableAfter {
			e.disable(ctx, q, fmt.Sprintf("failing continuously since %s (delivery.disable_after)", q.failingSince.UTC().Format(time.RFC3339)))
		}
	}
	if r.d.Status == outbox.StatusFailed {
		e.requeue(ctx, q, r.d)
	}
}

// requeue queues d for another attempt, or parks it if its webhook was
// disabled meanwhile.
func (e *Engine) requeue(ctx context.Context, q *queue, d outbox.Delivery) {
	if q.wh.Enabled {
		q.push(d)
	} else {
		e.park(ctx, []outbox.Delivery{d}, q.wh.DisabledReason)
	}
}

// transformPausePrefix begins the reason of a pause for a missing
// transform plugin (Pause.Reason, pause_reason in the API).
const transformPausePrefix = "transform plugin "

// defaultRecheck is the first wait of a delivery held for a missing
// transform plugin (Options.TransformRecheck); the waits double up to
// maxRechecks times it.
const (
	defaultRecheck = time.Second
	maxRechecks    = 60
)

// transformRecheck is the wait after the misses+1-th check in a row that
// found a webhook's transform missing: first, doubling, capped at
// maxRechecks times first.
func transformRecheck(first time.Duration, misses int) time.Duration {
	return min(first<<min(misses, 6), maxRechecks*first)
}

// breakerCooldown is how long an open circuit waits before its next probe:
// the retry schedule's wait for that many trips, capped.
func breakerCooldown(schedule []time.Duration, trips int) time.Duration {
	if len(schedule) == 0 {
		return time.Second
	}
	return min(schedule[min(trips, len(schedule))-1], maxBreakerCooldown)
}

// disable turns the webhook off (recording why) and parks its deliveries.
func (e *Engine) disable(ctx context.Context, q *queue, reason string) {
	updated, err := e.opts.Webhooks.MutateWebhook(ctx, q.wh.ID, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur == nil {
			return nil, nil
		}
		next := *cur
		next.Enabled = false
		next.DisabledReason = reason
		next.UpdatedAt = time.Now().UTC()
		return &next, nil
	})
	if err != nil {
		e.logger.Error("disabling webhook failed", "webhook", q.wh.ID, "err", err)
		return
	}
	if updated == nil {
		return
	}
	e.logger.Warn("webhook disabled; its deliveries are parked until it is enabled again", "webhook", q.wh.ID, "reason", reason)
	if e.observes(TypeWebhookDisabled) {
		e.notify(TypeWebhookDisabled, opEvent{WebhookID: q.wh.ID, Reason: reason})
	}
	e.configure(q, *updated)
	e.park(ctx, e.drain(q), reason)
	e.publishHooks()
}

// drain empties q, keeping the count of held events right.
func (e *Engine) drain(q *queue) []outbox.Delivery {
	ds, held, heldBytes := q.drain()
	e.heldEvents -= held
	e.heldBytes -= heldBytes
	return ds
}

// park records deliveries as parked.
func (e *Engine) park(ctx context.Context, ds []outbox.Delivery, reason string) {
	if len(ds) == 0 {
		return
	}
	now := time.Now().UTC()
	us := make([]outbox.Update, len(ds))
	for i, d := range ds {
		d.Status, d.Note, d.UpdatedAt = outbox.StatusParked, "webhook disabled: "+reason, now
		us[i] = outbox.Update{Delivery: d}
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, us); err != nil {
		e.logger.Error("parking deliveries failed; they stay in their previous state", "webhook", ds[0].WebhookID, "err", err)
	}
}

// enqueue adds new deliveries to their queues (fan-out calls this). evs,
// if given, holds their events by seq, handed to the first attempt so that
// it need not read the event back.
func (e *Engine) enqueue(ctx context.Context, ds []outbox.Delivery, evs map[event.Seq]*outgoing) {
	var park, late, orphans []outbox.Delivery
	for _, d := range ds {
		q := e.queues[d.WebhookID]
		switch {
		case q == nil:
			orphans = append(orphans, d) // deleted after fan-out read the webhooks
		case d.Status == outbox.StatusParked && q.wh.Enabled:
			// Fan-out saw the webhook disabled, and it was enabled since.
			late = append(late, d)
		case d.Status == outbox.StatusParked:
		case !q.wh.Enabled:
			park = append(park, d)
		default:
			// Hand the event along only while few are held: deliveries that
			// wait (a slow or dead endpoint) must not pin their payloads.
			// An event shared by several webhooks counts once per delivery:
			// the bound errs on the safe side.
			ev := evs[d.EventSeq]
			if ev != nil && e.heldEvents < maxHeldEvents && e.heldBytes+ev.size() <= maxHeldBytes {
				e.heldEvents++
				e.heldBytes += ev.size()
			} else {
				ev = nil
			}
			q.pushWith(d, ev)
		}
	}
	if len(park) > 0 {
		e.park(ctx, park, "webhook disabled")
	}
	if len(late) > 0 {
		e.resumeLate(ctx, late)
	}
	if len(orphans) > 0 {
		e.closeOrphans(ctx, orphans)
	}
}

// closeOrphans finishes deliveries whose webhook was deleted.
func (e *Engine) closeOrphans(ctx context.Context, ds []outbox.Delivery) {
	now := time.Now().UTC()
	us := make([]outbox.Update, len(ds))
	for i, d := range ds {
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = outbox.StatusDead, "webhook deleted", time.Time{}, now
		us[i] = outbox.Update{Delivery: d}
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, us); err != nil {
		e.logger.Error("closing deliveries of a deleted webhook failed; the next start closes them", "err", err)
	}
}

// resumeLate resumes deliveries that fan-out created parked while their
// webhook was being enabled, unless resumeParked already did (rare: only a
// fan-out racing an enable gets here).
func (e *Engine) resumeLate(ctx context.Context, ds []outbox.Delivery) {
	now := time.Now().UTC()
	var us []outbox.Update
	for _, d := range ds {
		cur, err := e.opts.Deliveries.Delivery(ctx, d.ID())
		if err != nil {
			e.logger.Error("reloading a parked delivery failed; it stays parked until the next start", "delivery", d.ID(), "err", err)
			continue
		}
		if cur.Status != outbox.StatusParked {
			continue // resumed by resumeParked
		}
		cur.Status, cur.Note, cur.NextAttemptAt, cur.UpdatedAt = outbox.StatusPending, "", time.Time{}, now
		us = append(us, outbox.Update{Delivery: cur})
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, us); err != nil {
		e.logger.Error("resuming parked deliveries failed; they stay parked until the next start", "err", err)
		return
	}
	for _, u := range us {
		e.queues[u.Delivery.WebhookID].push(u.Delivery)
	}
}

// retryNow makes a queued delivery due at once, or re-queues a finished one
// for one more attempt. It reports whether the webhook exists and is
// enabled.
func (e *Engine) retryNow(d outbox.Delivery) bool {
	q := e.queues[d.WebhookID]
	if q == nil || !q.wh.Enabled {
		return false
	}
	if q.busy[d.EventSeq] {
		return true // being attempted right now
	}
	if i := q.find(d.EventSeq); i >= 0 {
		q.items.list[i].due = time.Time{}
		heap.Fix(&q.items, i)
		return true
	}
	d.NextAttemptAt = time.Time{}
	q.push(d)
	return true
}
