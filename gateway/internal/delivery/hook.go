package delivery

import (
	"maps"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/delivery/schedule"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// hook is what the engine needs to send to one webhook: its registration
// and what is derived from it (signer, sendable headers, retry policy,
// limits). A hook is immutable once built: a change builds a new one, so a
// worker may keep using the one its job carries.
type hook struct {
	wh       webhook.Webhook
	patterns event.Patterns
	headers  map[string]string
	signer   signer
	// signerUntil is when a previous secret stops signing and the signer
	// must be rebuilt (zero: never).
	signerUntil time.Time
	policy      outbox.Policy
	limits      schedule.Limits
}

// newHook builds the hook of w as of now.
func (e *Engine) newHook(w webhook.Webhook, now time.Time) *hook {
	h := &hook{wh: w, headers: e.sendableHeaders(w)}
	h.patterns, _ = w.Patterns()
	secrets, changesAt := w.SigningSecrets(now)
	keys := make([]Key, len(secrets))
	for i, sec := range secrets {
		keys[i] = Key(sec)
	}
	var sg signer
	sg, err := NewSigner(keys...)
	if err != nil {
		e.logger.Error("webhook has an unusable signing secret; its deliveries will fail until it is rotated", "webhook", w.ID, "err", err)
		sg = brokenSigner{}
	}
	h.signer, h.signerUntil = sg, changesAt
	sched := e.opts.RetrySchedule
	if w.Delivery.RetrySchedule != nil {
		sched = w.Delivery.RetrySchedule
	}
	h.policy = outbox.Policy{Schedule: sched, Jitter: jitter}
	h.limits = schedule.Limits{
		MaxInFlight:     e.opts.MaxInFlight,
		RateLimit:       w.Delivery.RateLimit,
		Ordered:         w.Delivery.Ordered,
		BreakerFailures: e.opts.BreakerFailures,
		Cooldown:        sched,
		DisableAfter:    e.opts.DisableAfter,
	}
	if w.Delivery.MaxInFlight > 0 {
		h.limits.MaxInFlight = w.Delivery.MaxInFlight
	}
	if w.Delivery.Ordered || h.limits.MaxInFlight < 1 {
		h.limits.MaxInFlight = 1
	}
	return h
}

// sendableHeaders returns w's custom headers without the reserved ones
// (webhook.ReservedHeader) that a webhook stored before they were refused
// may still have: Expect: 100-continue held every delivery for a second.
func (e *Engine) sendableHeaders(w webhook.Webhook) map[string]string {
	var out map[string]string
	for k := range w.Headers {
		if !webhook.ReservedHeader(k) {
			continue
		}
		if out == nil {
			out = maps.Clone(w.Headers)
		}
		delete(out, k)
		e.logger.Warn("webhook has a custom header the gateway no longer sends; remove it with PATCH /v1/webhooks/{id}", "webhook", w.ID, "header", k)
	}
	if out == nil {
		return w.Headers
	}
	return out
}

// brokenSigner stands in for a webhook whose secret cannot be decoded.
type brokenSigner struct{}

func (brokenSigner) Sign(string, time.Time, []byte) string { return "" }

// managedBy names who manages w, for logs.
func managedBy(w webhook.Webhook) string {
	if w.Managed != "" {
		return w.Managed
	}
	return "api"
}
