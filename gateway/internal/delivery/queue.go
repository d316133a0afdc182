package delivery

import (
	"container/heap"
	"maps"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// queue is one webhook's deliveries waiting to be attempted, with the
// limits that apply to that endpoint. It is owned by the loop goroutine.
type queue struct {
	wh       webhook.Webhook
	patterns event.Patterns
	signer   signer
	// signerUntil is when a previous secret stops signing and the signer
	// must be rebuilt (zero: never).
	signerUntil time.Time
	schedule    []time.Duration
	maxInFlight int
	limit       *bucket

	items items
	// busy holds the deliveries handed to workers and not yet finished.
	busy map[event.Seq]bool

	// Circuit breaker: after BreakerFailures consecutive failures the
	// endpoint is "open" until openUntil; then one probe at a time goes out
	// until an attempt succeeds.
	failures  int
	trips     int
	openUntil time.Time
	// failingSince is when the current run of failures began (auto-disable).
	failingSince time.Time

	// pausedUntil holds back every delivery of the endpoint, for
	// pauseReason: the receiver asked for it with Retry-After, or the
	// webhook's transform is not loaded.
	pausedUntil time.Time
	pauseReason string
	// misses counts the checks in a row that found the webhook's transform
	// missing; the re-checks back off with it. held holds the deliveries
	// those checks sent back unsent, so that TransformsChanged can make
	// them due at once (and not the retries that wait for their own time).
	misses int
	held   map[event.Seq]bool
}

// pause holds back all of q's deliveries until until; a longer pause that
// is already in place wins.
func (q *queue) pause(until time.Time, reason string) {
	if until.After(q.pausedUntil) {
		q.pausedUntil, q.pauseReason = until, reason
	}
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

func (e *Engine) newQueue(w webhook.Webhook) *queue {
	q := &queue{items: items{ordered: w.Delivery.Ordered}, busy: make(map[event.Seq]bool), held: make(map[event.Seq]bool)}
	e.configure(q, w)
	return q
}

// configure applies (new) settings of w to q.
func (e *Engine) configure(q *queue, w webhook.Webhook) {
	q.wh = w
	q.wh.Headers = e.sendableHeaders(w)
	q.patterns, _ = w.Patterns()
	secrets, changesAt := w.SigningSecrets(time.Now())
	keys := make([]Key, len(secrets))
	for i, sec := range secrets {
		keys[i] = Key(sec)
	}
	var sg signer
	sg, err := NewSigner(keys...)
	q.signerUntil = changesAt
	if err != nil {
		e.logger.Error("webhook has an unusable signing secret; its deliveries will fail until it is rotated", "webhook", w.ID, "err", err)
		sg = brokenSigner{}
	}
	q.signer = sg
	q.schedule = e.opts.RetrySchedule
	if w.Delivery.RetrySchedule != nil {
		q.schedule = w.Delivery.RetrySchedule
	}
	q.maxInFlight = e.opts.MaxInFlight
	if w.Delivery.MaxInFlight > 0 {
		q.maxInFlight = w.Delivery.MaxInFlight
	}
	if w.Delivery.Ordered {
		q.maxInFlight = 1
	}
	if q.limit == nil || q.limit.rate != w.Delivery.RateLimit {
		q.limit = newBucket(w.Delivery.RateLimit, time.Now())
	}
	if q.items.ordered != w.Delivery.Ordered {
		q.items.ordered = w.Delivery.Ordered
		heap.Init(&q.items)
	}
}

// brokenSigner stands in for a webhook whose secret cannot be decoded.
type brokenSigner struct{}

func (brokenSigner) Sign(string, time.Time, []byte) string { return "" }

func (q *queue) push(d outbox.Delivery) { q.pushWith(d, nil) }

// pushWith queues d with its event, if known (first attempts only: retries
// read it back, so that waiting deliveries do not hold payloads in memory).
func (q *queue) pushWith(d outbox.Delivery, ev *outgoing) {
	heap.Push(&q.items, item{d: d, ev: ev, due: d.NextAttemptAt})
}

func (q *queue) pop() item { return heap.Pop(&q.items).(item) }

// drain removes and returns every queued delivery, and how many of them
// carried their event, with the size of those events' data.
func (q *queue) drain() (out []outbox.Delivery, held, heldBytes int) {
	out = make([]outbox.Delivery, 0, len(q.items.list))
	for _, it := range q.items.list {
		out = append(out, it.d)
		if it.ev != nil {
			held++
			heldBytes += it.ev.size()
		}
	}
	q.items.list = q.items.list[:0]
	return out, held, heldBytes
}

// find returns the index of the delivery of event seq, or -1.
func (q *queue) find(seq event.Seq) int {
	for i, it := range q.items.list {
		if it.d.EventSeq == seq {
			return i
		}
	}
	return -1
}

type item struct {
	d   outbox.Delivery
	ev  *outgoing
	due time.Time
}

// items is a heap of deliveries: by due time (then event order) normally,
// by event order alone for an ordered webhook.
type items struct {
	list    []item
	ordered bool
}

func (h items) Len() int { return len(h.list) }
func (h items) Less(i, j int) bool {
	a, b := &h.list[i], &h.list[j]
	if !h.ordered && !a.due.Equal(b.due) {
		return a.due.Before(b.due)
	}
	return string(a.d.EventSeq[:]) < string(b.d.EventSeq[:])
}
func (h items) Swap(i, j int) { h.list[i], h.list[j] = h.list[j], h.list[i] }
func (h *items) Push(x any)   { h.list = append(h.list, x.(item)) }
func (h *items) Pop() any {
	n := len(h.list) - 1
	it := h.list[n]
	h.list = h.list[:n]
	return it
}
