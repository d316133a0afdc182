package delivery

import (
	"context"
	"strconv"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/delivery/schedule"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// job is one attempt, handed by the loop to a worker.
type job struct {
	hook *hook
	seq  event.Seq
	// first is set for a first attempt right after fan-out: the record and
	// the event, so the worker reads neither back.
	first *firstAttempt
	// recheck is how long the delivery waits if the webhook's transform
	// plugin is not loaded.
	recheck time.Duration
}

// result is a finished attempt, as the writer hands it to the loop after
// storing it.
type result struct {
	webhookID string
	seq       event.Seq
	d         outbox.Delivery // as the attempt left it
	fx        outbox.Effects
	// cancelled: shutdown interrupted the attempt; nothing was stored.
	cancelled bool
	// skipped: the delivery was finished, parked or gone when the worker
	// read it (a stale queue entry); nothing was sent or stored.
	skipped bool
	// missing names the webhook's transform plugin that is not loaded.
	missing string
	// err: the attempt's outcome could not be read or stored.
	err error
}

// loop owns the scheduler, the hooks and the first attempts' events. It
// never touches the store: everything it learns comes through cmds (from
// the writer, after the store has it, and from the API's questions) and
// from its timer.
func (e *Engine) loop(ctx context.Context) {
	defer close(e.loopDone)
	e.timer = time.NewTimer(time.Hour)
	defer e.timer.Stop()
	for {
		e.dispatch()
		select {
		case f := <-e.cmds:
			f()
		case <-e.timer.C:
			e.armed = time.Time{}
		case <-ctx.Done():
			return
		}
	}
}

// dispatch hands every delivery the scheduler lets go now to a free
// worker, and arms the timer for the next one.
func (e *Engine) dispatch() {
	now := e.now()
	for e.inFlight < e.opts.Workers {
		id, seq, ok := e.sched.Next(now)
		if !ok {
			break
		}
		h := e.hooks[id]
		if !h.signerUntil.IsZero() && !now.Before(h.signerUntil) {
			h = e.replaceHook(h.wh, now) // a previous secret's overlap has ended
		}
		j := &job{hook: h, seq: seq, first: e.first.take(id, seq),
			recheck: transformRecheck(e.opts.TransformRecheck, e.sched.Misses(id))}
		e.inFlight++
		e.jobs <- j
	}
	wake := e.sched.Wake()
	switch {
	case wake.IsZero() || wake.Equal(e.armed):
		return
	case !wake.After(now) && e.inFlight >= e.opts.Workers:
		// Due work waits for a worker, not for a time: the next finished
		// attempt runs dispatch again. Arming the timer for a time already
		// past made it fire at once, over and over, while every worker was
		// busy: half the gateway's CPU in a profile of fan-out 100.
		return
	}
	e.armed = wake
	e.timer.Reset(max(wake.Sub(now), 0))
}

// finished applies the outcomes the writer stored, in the order it stored
// them.
func (e *Engine) finished(rs []result) {
	now := e.now()
	for i := range rs {
		e.inFlight--
		e.finish(&rs[i], now)
	}
}

// finish applies one attempt's outcome to its webhook's schedule.
func (e *Engine) finish(r *result, now time.Time) {
	id := r.webhookID
	h := e.hooks[id]
	if h == nil {
		// The webhook was deleted while the attempt ran.
		if !r.cancelled && !r.skipped && r.err == nil && !outbox.Finished(r.d.Status) {
			e.w.submit(&op{kind: opWebhookGone, webhookID: id, ds: []outbox.Delivery{r.d}})
		}
		return
	}
	switch {
	case r.cancelled || r.skipped:
		e.sched.Done(id, r.seq, schedule.Unsent, now)
		if r.cancelled {
			e.requeue(h, r.seq, now)
		}
		return
	case r.err != nil:
		e.logger.Error("a delivery attempt's outcome could not be stored; it will be attempted again", "webhook", id, "seq", r.seq, "err", r.err)
		e.sched.Done(id, r.seq, schedule.Unsent, now)
		e.requeue(h, r.seq, now.Add(time.Second))
		return
	case r.fx.Held && !h.wh.Enabled:
		e.sched.Done(id, r.seq, schedule.Unsent, now)
		e.requeue(h, r.seq, r.d.NextAttemptAt) // parks it
		return
	case r.fx.Held:
		e.sched.Hold(id, r.seq, r.d.NextAttemptAt, transformPausePrefix+strconv.Quote(r.missing)+" is not loaded", now)
		return
	}
	if !r.fx.PauseUntil.IsZero() {
		reason := "the endpoint answered " + strconv.Itoa(r.d.LastStatus) + " with Retry-After"
		if a := r.fx.Attempt; a != nil && a.Headers["Retry-After"] != "" {
			reason += ": " + a.Headers["Retry-After"]
		}
		e.sched.Pause(id, r.fx.PauseUntil, reason)
	}
	health := schedule.Unsent
	switch r.fx.Endpoint {
	case outbox.EndpointUp:
		health = schedule.Success
	case outbox.EndpointDown:
		health = schedule.Failure
	}
	failing := e.sched.Done(id, r.seq, health, now)
	switch {
	case r.fx.Endpoint == outbox.EndpointGone:
		e.disable(h, outbox.ReasonGone, now)
	case failing:
		e.disable(h, outbox.ReasonFailing, now)
	}
	if r.fx.Queue {
		e.requeue(e.hooks[id], r.seq, r.d.NextAttemptAt)
	}
}

// requeue queues seq for another attempt at due, or, if its webhook was
// disabled meanwhile, has the writer park it.
func (e *Engine) requeue(h *hook, seq event.Seq, due time.Time) {
	if h.wh.Enabled {
		e.sched.Push(h.wh.ID, seq, due, e.now())
		return
	}
	e.w.submit(&op{kind: opPark, webhookID: h.wh.ID, seqs: []event.Seq{seq}, reason: parkReason(h)})
}

// disable turns webhook h off at once, in memory, and has the writer
// store that and park its deliveries. The loop does not wait: until the
// writer is done, fan-out may still create pending deliveries for it,
// which the loop parks when they arrive (queue).
func (e *Engine) disable(h *hook, reason string, now time.Time) {
	if !h.wh.Enabled {
		return
	}
	w := h.wh
	w.Enabled, w.DisabledReason = false, reason
	e.replaceHook(w, now)
	e.sched.Drain(w.ID)
	e.first.drop(w.ID)
	e.logger.Warn("webhook disabled; its deliveries are parked until it is enabled again", "webhook", w.ID, "reason", reason)
	e.w.submit(&op{kind: opDisable, webhookID: w.ID, reason: reason})
}

// addHook makes h known to the loop, the scheduler and fan-out.
func (e *Engine) addHook(h *hook, now time.Time) {
	e.hooks[h.wh.ID] = h
	e.sched.Set(h.wh.ID, h.limits, h.wh.Enabled, now)
	e.matcher.set(h)
}

// replaceHook rebuilds the hook of w (a change, a disable, the end of a
// secret's overlap) and returns it.
func (e *Engine) replaceHook(w webhook.Webhook, now time.Time) *hook {
	h := e.newHook(w, now)
	e.addHook(h, now)
	return h
}

// webhookStored applies a webhook as the writer stored it. A webhook that
// was enabled and is not any more gives up what it has queued: the writer
// parks those (it has parked the rest).
func (e *Engine) webhookStored(wh webhook.Webhook) {
	old := e.hooks[wh.ID]
	h := e.replaceHook(wh, e.now())
	if wh.Enabled || (old != nil && !old.wh.Enabled) {
		return
	}
	e.first.drop(wh.ID)
	if seqs := e.sched.Drain(wh.ID); len(seqs) > 0 {
		e.w.submit(&op{kind: opPark, webhookID: wh.ID, seqs: seqs, reason: parkReason(h)})
	}
}

// removeHook forgets webhook id: deleted.
func (e *Engine) removeHook(id string) {
	delete(e.hooks, id)
	e.sched.Remove(id)
	e.first.drop(id)
	e.matcher.remove(id)
}

// queue queues deliveries the writer stored as pending (created by
// fan-out, resumed, retried or replayed). Those of a webhook that is
// disabled by now go back to the writer to be parked; those of a deleted
// one, to be closed. fresh says they are new (fan-out's): none of them can
// be queued already. evs holds the events of new deliveries, for their
// first attempt.
func (e *Engine) queue(ds []outbox.Delivery, evs map[event.Seq]*outgoing, fresh bool) {
	now := e.now()
	var park, gone, again map[string][]event.Seq
	add := func(m *map[string][]event.Seq, d *outbox.Delivery) {
		if *m == nil {
			*m = make(map[string][]event.Seq)
		}
		(*m)[d.WebhookID] = append((*m)[d.WebhookID], d.EventSeq)
	}
	due := make(map[event.Seq]time.Time)
	for i := range ds {
		d := &ds[i]
		h := e.hooks[d.WebhookID]
		switch {
		case h == nil:
			add(&gone, d)
		case !h.wh.Enabled:
			add(&park, d)
		case d.Status == outbox.StatusParked:
			// Fan-out created it parked, having seen the webhook disabled;
			// it is enabled now, and the resume may have missed it.
			e.w.submit(&op{kind: opResume, webhookID: d.WebhookID, seqs: []event.Seq{d.EventSeq}})
		case fresh:
			e.sched.Push(d.WebhookID, d.EventSeq, d.NextAttemptAt, now)
			if ev := evs[d.EventSeq]; ev != nil {
				e.first.hold(*d, ev)
			}
		default:
			// Reopened: it may be queued (made due now) or in flight
			// (left alone) already. Its record changed: nothing held
			// for it stays.
			e.first.forget(d.WebhookID, d.EventSeq)
			add(&again, d)
			due[d.EventSeq] = d.NextAttemptAt
		}
	}
	for id, seqs := range again {
		for _, seq := range e.sched.MakeDue(id, seqs, now) {
			e.sched.Push(id, seq, due[seq], now)
		}
	}
	for id, seqs := range park {
		e.w.submit(&op{kind: opPark, webhookID: id, seqs: seqs, reason: parkReason(e.hooks[id])})
	}
	for id, seqs := range gone {
		e.w.submit(&op{kind: opWebhookGone, webhookID: id, seqs: seqs})
	}
}

// parkReason is why the deliveries of disabled webhook h are parked.
func parkReason(h *hook) string {
	if h.wh.DisabledReason != "" {
		return h.wh.DisabledReason
	}
	return outbox.ReasonOperator
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
