package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// work performs attempts until the jobs channel closes, and hands each
// outcome to the writer. A worker reads (the delivery and its event, when
// the job does not carry them) but never writes.
func (e *Engine) work() {
	defer e.workers.Done()
	for j := range e.jobs {
		r := e.attempt(j)
		e.w.submit(&op{kind: opOutcome, r: &r})
	}
}

// attempt makes one attempt of j's delivery and works out, with
// outbox.Step, what it came to; the writer stores that.
func (e *Engine) attempt(j *job) result {
	ctx := e.workCtx
	h := j.hook
	r := result{webhookID: h.wh.ID, seq: j.seq}
	var d outbox.Delivery
	var out outgoing
	var why string
	var err error
	if j.first != nil {
		d, out = j.first.d, *j.first.ev
	} else {
		d, err = e.opts.Deliveries.Delivery(ctx, (&outbox.Delivery{EventSeq: j.seq, WebhookID: h.wh.ID}).ID())
		switch {
		case errors.Is(err, store.ErrNotFound):
			r.skipped = true // swept by retention
			return r
		case err != nil:
			return r.failed(ctx, err)
		case outbox.Finished(d.Status) || d.Status == outbox.StatusParked:
			r.skipped = true // a stale queue entry: finished or parked since
			return r
		}
		var o store.Outcome
		out.ev, o, err = e.opts.Events.EventForDelivery(ctx, j.seq)
		out.flags, why = flagsHeader(o.Verdicts), o.Why()
	}
	step := func(t outbox.Transition) result {
		r.d, r.fx = outbox.Step(d, t, e.now(), h.policy)
		return r
	}
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return r.failed(ctx, err)
	case err != nil:
		return step(outbox.Transition{Kind: outbox.EventMissing})
	case why != "":
		// The pipeline stopped the event: only a delivery created before
		// replays honoured that gets here. It is never sent.
		return step(outbox.Transition{Kind: outbox.EventStopped, Detail: why})
	}
	ev := &out.ev
	if name := h.wh.Delivery.Transform; name != "" {
		st, ok := e.transform(name)
		if !ok {
			// Fail closed: the untransformed copy may hold what the
			// transform exists to remove.
			r.missing = name
			return step(outbox.Transition{Kind: outbox.TransformMissing, Recheck: j.recheck, Detail: fmt.Sprintf(
				"not sent: the webhook's \"transform\" names plugin %q, which is not loaded as a transform; "+
					"load it (under plugins: in the config with kind: transform, or PUT /v1/plugins/%s). Checked again at next_attempt_at", name, name)})
		}
		if dropped, detail := e.applyTransform(ctx, h, name, st, ev); dropped {
			return step(outbox.Transition{Kind: outbox.TransformDropped, Detail: detail})
		}
	}
	o := e.sender.send(ctx, h.wh.URL, h.headers, ev.ID, payload(ev), h.signer, out.flags)
	if ctx.Err() != nil {
		r.cancelled = true // shutdown: leave the delivery as it was
		return r
	}
	e.auditBlocked(h.wh.ID, h.wh.URL, o.err)
	a := &outbox.Attempt{
		StartedAt:  o.started.UTC(),
		DurationMS: float64(o.duration.Microseconds()) / 1000,
		StatusCode: o.status,
		Headers:    o.headers,
		Body:       o.body,
		Error:      o.errorText(),
	}
	t := outbox.Transition{Kind: outbox.AttemptFailed, Attempt: a, RetryAfter: o.retryAfter}
	switch {
	case o.success():
		t.Kind = outbox.AttemptSucceeded
	case o.gone():
		t.Kind = outbox.AttemptGone
	}
	return step(t)
}

// failed is the result of an attempt that could not read what it needed.
func (r result) failed(ctx context.Context, err error) result {
	if ctx.Err() != nil {
		r.cancelled = true
		return r
	}
	r.err = err
	return r
}

// auditBlocked writes the audit line of an attempt the egress guard
// refused to connect, if err is that refusal.
func (e *Engine) auditBlocked(webhookID, target string, err error) {
	if e.opts.Audit == nil || !errors.Is(err, egress.ErrBlocked) {
		return
	}
	host := target
	if u, perr := url.Parse(target); perr == nil {
		host = u.Hostname()
	}
	reason := err.Error()
	var be *egress.BlockedError
	if errors.As(err, &be) {
		reason = be.Target + " is " + be.Reason
	}
	e.opts.Audit.DialBlocked(webhookID, host, reason)
}

// transform looks up the transform plugin called name.
func (e *Engine) transform(name string) (pipeline.Stage, bool) {
	if e.opts.Transform == nil {
		return pipeline.Stage{}, false
	}
	return e.opts.Transform(name)
}

// applyTransform applies the webhook's own transform st (plugin name) to
// ev's data, in place (ev is the worker's copy). It reports whether the
// transform dropped the event, and what it said. A failing transform
// follows its on_error policy.
func (e *Engine) applyTransform(ctx context.Context, h *hook, name string, st pipeline.Stage, ev *event.Event) (dropped bool, detail string) {
	v, out := pipeline.RunTransform(ctx, st, pipeline.Meta(ev, h.wh.ID), ev.Data)
	if v.Error != "" {
		e.logger.Warn("webhook transform failed", "webhook", h.wh.ID, "transform", name, "err", v.Error, "outcome", v.Outcome)
	}
	if v.Outcome == pipeline.OutcomeDrop {
		detail = fmt.Sprintf("transform %q answered %q", name, v.Outcome)
		if v.Error != "" {
			detail += " (error: " + v.Error + ")"
		} else if v.Reason != "" {
			detail += " (" + v.Reason + ")"
		}
		return true, detail
	}
	ev.Data = out
	return false, ""
}
