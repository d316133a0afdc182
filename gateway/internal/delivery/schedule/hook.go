package schedule

import (
	"slices"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// hook is one webhook's state in the scheduler.
type hook struct {
	id      string
	limits  Limits // as Set normalized them
	enabled bool

	queue queue
	// held is the deliveries Hold sent back, kept out of queue until their
	// hold ends (Next puts them back) or ReleaseHolds ends it. Each is due
	// by holdUntil. They are at most one round of attempts (max in flight),
	// so "which deliveries are held" needs no per-delivery mark.
	held []item
	// busy is the deliveries in flight: few, as max in flight is small.
	busy []event.Seq

	// The pause the receiver asked for (Pause) and the hold for a missing
	// transform (Hold), kept apart so that ReleaseHolds ends only the hold.
	// Deliveries wait for the later of the two.
	pauseUntil  int64
	pauseReason string
	holdUntil   int64
	holdReason  string
	misses      int

	// The breaker is open while failures >= BreakerFailures: until
	// openUntil, then half-open (one attempt in flight at a time).
	failures  int
	trips     int
	openUntil int64
	// failingSince is when the run of failures began, if failing.
	failing      bool
	failingSince int64

	bucket bucket

	// The webhook's place in the scheduler's ready heap (index -1: not in
	// it). key is max(the time it can send next, served): served is when
	// Next last handed out one of its deliveries, and ticket the turn it
	// was given then, so that a webhook that just sent queues behind the
	// others that can send at that time.
	index  int
	key    int64
	served int64
	ticket uint64
}

func newHook(id string, l Limits, now int64, ticket uint64) *hook {
	return &hook{
		id:         id,
		limits:     l,
		queue:      queue{ordered: l.Ordered},
		pauseUntil: never,
		holdUntil:  never,
		openUntil:  never,
		bucket:     newBucket(l.RateLimit, now),
		index:      -1,
		served:     never,
		ticket:     ticket,
	}
}

// normalize returns l as the scheduler applies it: at least one attempt in
// flight, exactly one when ordered, and a Cooldown of its own.
func normalize(l Limits) Limits {
	switch {
	case l.Ordered:
		l.MaxInFlight = 1
	case l.MaxInFlight < 1:
		l.MaxInFlight = 1
	}
	l.Cooldown = slices.Clone(l.Cooldown)
	return l
}

// open reports whether the breaker is open (or half-open).
func (h *hook) open() bool {
	return h.limits.BreakerFailures > 0 && h.failures >= h.limits.BreakerFailures
}

// eligible returns the time from which the webhook can send its next
// delivery, or false if it cannot send until something changes: it is
// disabled, has nothing queued, or its in-flight window (one while the
// breaker is open) is full. Every condition is monotone in time, so the
// webhook can send at any now >= at.
func (h *hook) eligible() (at int64, ok bool) {
	if !h.enabled {
		return 0, false
	}
	limit := h.limits.MaxInFlight
	open := h.open()
	if open {
		limit = 1 // half-open: a single probe
	}
	if len(h.busy) >= limit {
		return 0, false
	}
	first := h.first()
	if first == nil {
		return 0, false
	}
	at = max(first.due, h.pauseUntil, h.holdUntil, h.bucket.next())
	if open {
		at = max(at, h.openUntil)
	}
	return at, true
}

// first returns the delivery that goes next, held ones included, or nil.
func (h *hook) first() *item {
	var first *item
	if h.queue.len() > 0 {
		first = h.queue.head()
	}
	for i := range h.held {
		if first == nil || h.queue.before(&h.held[i], first) {
			first = &h.held[i]
		}
	}
	return first
}

// unhold puts the held deliveries back in the queue, due at their own due
// time or at latest (whichever is earlier).
func (h *hook) unhold(latest int64) {
	for _, it := range h.held {
		it.due = min(it.due, latest)
		h.queue.push(it)
	}
	h.held = h.held[:0]
}

// release takes seq out of the in-flight set and reports whether it was in
// it.
func (h *hook) release(seq event.Seq) bool {
	i := slices.Index(h.busy, seq)
	if i < 0 {
		return false
	}
	last := len(h.busy) - 1
	h.busy[i] = h.busy[last]
	h.busy = h.busy[:last]
	return true
}

// healthy resets the breaker and ends the failure run.
func (h *hook) healthy() {
	h.failures, h.trips, h.openUntil, h.failing = 0, 0, never, false
}

// fail counts a failed attempt at now toward the breaker and the failure
// run, and reports whether the run has lasted DisableAfter.
func (h *hook) fail(now int64) (disable bool) {
	h.failures++
	if !h.failing {
		h.failing, h.failingSince = true, now
	}
	if h.open() {
		h.trips++
		h.openUntil = addSat(now, int64(cooldown(h.limits.Cooldown, h.trips)))
	}
	after := int64(h.limits.DisableAfter)
	return h.enabled && after > 0 && now >= addSat(h.failingSince, after)
}

// cooldown is how long the trips-th consecutive opening of a breaker
// waits before its probe: the retry schedule's wait for that many trips
// (its last one past its end), capped at MaxCooldown; 1 s if the schedule
// is empty.
func cooldown(schedule []time.Duration, trips int) time.Duration {
	if len(schedule) == 0 {
		return time.Second
	}
	return min(max(schedule[min(trips, len(schedule))-1], 0), MaxCooldown)
}

// pause returns the pause in place at now: the later of the receiver's
// and the hold.
func (h *hook) pause(now int64) (until int64, reason string, ok bool) {
	until, reason = h.pauseUntil, h.pauseReason
	if h.holdUntil > until {
		until, reason = h.holdUntil, h.holdReason
	}
	return until, reason, now < until
}
