package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// maxRecordBatch caps the outcomes written in one transaction.
const maxRecordBatch = 256

// work performs attempts until the jobs channel closes, and hands each
// outcome to the recorder.
func (e *Engine) work() {
	defer e.workers.Done()
	for j := range e.jobs {
		e.outcomes <- e.attempt(j)
	}
}

// record writes attempt outcomes to the store, as many as are waiting in
// one transaction (and one sync), and only then tells the loop about them.
// So a crash after the write never repeats a decision, and a crash before
// it means the attempt is made again (at-least-once). It runs until the
// outcomes channel closes.
func (e *Engine) record() {
	defer close(e.recorderDone)
	ctx := context.WithoutCancel(e.workCtx) // outcomes of finished attempts are written even during shutdown
	batch := make([]result, 0, maxRecordBatch)
	for r := range e.outcomes {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-e.outcomes:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		us := make([]outbox.Update, 0, len(batch))
		for _, r := range batch {
			if r.update != nil {
				us = append(us, *r.update)
			}
		}
		err := e.opts.Deliveries.UpdateDeliveries(ctx, us)
		for _, r := range batch {
			if r.update != nil && err != nil {
				r.err = err
			}
			if r.update != nil && err == nil && !r.cancelled && r.missing == "" {
				e.notifyOutcome(&r.update.Delivery)
			}
			e.results <- r
		}
	}
}

// attempt sends one delivery and works out its next state, which the
// recorder writes.
func (e *Engine) attempt(j *job) result {
	ctx := e.workCtx
	r := result{before: j.d, d: j.d}
	d := &r.d
	out, why, err := e.event(ctx, j)
	ev := &out.ev
	switch {
	case err != nil && ctx.Err() != nil:
		r.cancelled = true
		return r
	case err != nil && !errors.Is(err, store.ErrNotFound):
		r.err = err
		return r
	case err != nil:
		// The event is gone (retention). Nothing can be sent any more.
		return r.unsent(outbox.StatusDead, "the event is no longer stored")
	case why != "":
		// The pipeline stopped the event: only a delivery created before
		// replays honoured that gets here. It is never sent.
		return r.unsent(outbox.StatusDropped, "not sent: the plugin pipeline stopped the event ("+why+")")
	}
	if j.transform != "" {
		st, ok := e.transform(j.transform)
		if !ok {
			// Fail closed: the untransformed copy may hold what the
			// transform exists to remove.
			return r.hold(j.transform, j.recheck)
		}
		if dropped := e.applyTransform(ctx, j, st, ev); dropped {
			return r.unsent(outbox.StatusDropped, fmt.Sprintf("not sent: the webhook's transform %q dropped it", j.transform))
		}
	}
	r.o = e.sender.send(ctx, j.url, j.hdrs, ev.ID, payload(ev), j.signer, out.flags)
	if ctx.Err() != nil {
		r.cancelled = true // shutdown: leave the delivery as it was
		return r
	}
	e.auditBlocked(j, r.o.err)
	now := time.Now().UTC()
	d.Attempts++
	d.LastStatus = r.o.status
	d.LastError = r.o.errorText()
	d.UpdatedAt = now
	d.Note = ""
	switch {
	case r.o.success():
		d.Status, d.NextAttemptAt = outbox.StatusSucceeded, time.Time{}
	case r.o.gone():
		d.Status, d.NextAttemptAt, d.Note = outbox.StatusParked, time.Time{}, "webhook disabled: endpoint answered 410 Gone"
	default:
		if next, ok := nextAttempt(j.sched, d.Attempts-d.ScheduleBase, now, r.o.retryAfter); ok {
			d.Status, d.NextAttemptAt = outbox.StatusFailed, next
		} else {
			d.Status, d.NextAttemptAt = outbox.StatusDead, time.Time{}
		}
	}
	a := &outbox.Attempt{
		N:          d.Attempts,
		StartedAt:  r.o.started.UTC(),
		DurationMS: float64(r.o.duration.Microseconds()) / 1000,
		StatusCode: r.o.status,
		Headers:    r.o.headers,
		Body:       r.o.body,
		Error:      d.LastError,
	}
	r.update = &outbox.Update{Delivery: *d, Attempt: a}
	return r
}

// auditBlocked writes the audit line of an attempt the egress guard
// refused to connect, if err is that refusal.
func (e *Engine) auditBlocked(j *job, err error) {
	if e.opts.Audit == nil || !errors.Is(err, egress.ErrBlocked) {
		return
	}
	host := j.url
	if u, perr := url.Parse(j.url); perr == nil {
		host = u.Hostname()
	}
	reason := err.Error()
	var be *egress.BlockedError
	if errors.As(err, &be) {
		reason = be.Target + " is " + be.Reason
	}
	e.opts.Audit.DialBlocked(j.d.WebhookID, host, reason)
}

// unsent finishes r's delivery without a request, in status with note.
func (r *result) unsent(status, note string) result {
	r.d.Status, r.d.Note, r.d.NextAttemptAt, r.d.UpdatedAt = status, note, time.Time{}, time.Now().UTC()
	r.update = &outbox.Update{Delivery: r.d}
	return *r
}

// hold leaves r's delivery unsent in its status because the webhook's
// transform plugin name is not loaded: no attempt is counted, last_error
// says why, and the loop holds the webhook until NextAttemptAt, when the
// delivery looks again.
func (r *result) hold(name string, recheck time.Duration) result {
	now := time.Now().UTC()
	r.d.LastError = fmt.Sprintf("not sent: the webhook's \"transform\" names plugin %q, which is not loaded as a transform; "+
		"load it (under plugins: in the config with kind: transform, or PUT /v1/plugins/%s). Checked again at next_attempt_at", name, name)
	r.d.NextAttemptAt, r.d.UpdatedAt = now.Add(recheck), now
	r.missing = name
	r.update = &outbox.Update{Delivery: r.d}
	return *r
}

// event returns the event a job carries, as it is sent: handed over by
// fan-out for a first attempt (fan-out never hands over an event it
// stopped), read from the store with its outcome otherwise. why is set when
// the plugin pipeline stopped the event.
func (e *Engine) event(ctx context.Context, j *job) (out outgoing, why string, err error) {
	if j.ev != nil {
		return *j.ev, "", nil
	}
	ev, o, err := e.opts.Events.EventForDelivery(ctx, j.d.EventSeq)
	return outgoing{ev: ev, flags: flagsHeader(o.Verdicts)}, o.Why(), err
}

// transform looks up the transform plugin called name.
func (e *Engine) transform(name string) (pipeline.Stage, bool) {
	if e.opts.Transform == nil {
		return pipeline.Stage{}, false
	}
	return e.opts.Transform(name)
}

// applyTransform applies the webhook's own transform st to ev's data, in
// place (ev is the worker's copy). It reports whether the transform dropped
// the event. A failing transform follows its on_error policy.
func (e *Engine) applyTransform(ctx context.Context, j *job, st pipeline.Stage, ev *event.Event) (dropped bool) {
	v, out := pipeline.RunTransform(ctx, st, pipeline.Meta(ev, j.d.WebhookID), ev.Data)
	if v.Error != "" {
		e.logger.Warn("webhook transform failed", "webhook", j.d.WebhookID, "transform", j.transform, "err", v.Error, "outcome", v.Outcome)
	}
	if v.Outcome == pipeline.OutcomeDrop {
		return true
	}
	ev.Data = out
	return false
}
