package schedule

import (
	"math"
	"slices"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// MaxCooldown caps how long an open breaker waits before its next probe.
const MaxCooldown = 10 * time.Minute

// Limits are the delivery limits of one webhook.
type Limits struct {
	// MaxInFlight is how many attempts may run at once (less than 1 counts
	// as 1). Ordered forces 1.
	MaxInFlight int
	// RateLimit is attempts per second, with a burst of max(1, RateLimit)
	// (0: no limit).
	RateLimit float64
	// Ordered: deliveries go one at a time in event order (by seq, whatever
	// their due time); the head waits for its due time and holds back the
	// rest.
	Ordered bool
	// BreakerFailures consecutive failures open the breaker (0: never).
	BreakerFailures int
	// Cooldown is the retry schedule: the n-th consecutive opening of the
	// breaker waits Cooldown[min(n, len)-1], capped at MaxCooldown (1 s if
	// Cooldown is empty).
	Cooldown []time.Duration
	// DisableAfter: an endpoint failing continuously for this long is to be
	// disabled (Done reports it). 0: never.
	DisableAfter time.Duration
}

// Outcome is how an attempt ended, for the endpoint's health.
type Outcome int

const (
	// Unsent: nothing reached the endpoint (a transform dropped the
	// delivery, its event is gone, shutdown cancelled it): the endpoint
	// neither succeeded nor failed.
	Unsent Outcome = iota
	// Success: the endpoint answered 2xx. It closes the breaker.
	Success
	// Failure: any other answer, or no answer.
	Failure
)

// Scheduler is the per-webhook queues and limits; see the package doc.
// The zero value is an empty scheduler, ready to use.
type Scheduler struct {
	hooks map[string]*hook
	// ready holds the webhooks that can send without a Done first, by the
	// time they can.
	ready ready
	// ticket numbers turns: each Set of a new webhook and each delivery
	// Next hands out takes the next one.
	ticket uint64
	// last is the latest now Next was given.
	last int64
}

// New returns an empty scheduler.
func New() *Scheduler { return &Scheduler{} }

// Set adds webhook id, or changes its limits and whether it is enabled. A
// disabled webhook keeps its queue but hands out nothing (the engine
// Drains it when it parks the deliveries). Changing the rate limit starts
// a full bucket; changing Ordered re-sorts the queue. Enabling a webhook
// resets its breaker and failure run, so the failures that led to the
// disable cannot disable it again at the first new failure. A webhook
// that is enabled already keeps its breaker and failure run whatever its
// new limits: a lower BreakerFailures can open its breaker at once (it is
// then half-open), 0 closes it.
func (s *Scheduler) Set(id string, l Limits, enabled bool, now time.Time) {
	l = normalize(l)
	n := nanos(now)
	h := s.hooks[id]
	switch {
	case h == nil:
		if s.hooks == nil {
			s.hooks = make(map[string]*hook)
		}
		s.ticket++
		h = newHook(id, l, n, s.ticket)
		s.hooks[id] = h
	default:
		if l.RateLimit != h.limits.RateLimit {
			h.bucket = newBucket(l.RateLimit, n)
		}
		if l.Ordered != h.queue.ordered {
			h.queue.ordered = l.Ordered
			h.queue.init()
		}
		if enabled && !h.enabled {
			h.healthy()
		}
	}
	h.limits, h.enabled = l, enabled
	s.update(h)
}

// Remove forgets webhook id and its queue. Attempts in flight may still
// call Done; it ignores them.
func (s *Scheduler) Remove(id string) {
	if h := s.hooks[id]; h != nil {
		s.ready.remove(h)
		delete(s.hooks, id)
	}
}

// Push queues the delivery of event seq to webhook id, due at due (zero:
// now). The caller never pushes a seq that is queued or in flight for the
// same webhook (MakeDue says which). It reports false if id is unknown. A
// disabled webhook takes the delivery into its queue.
func (s *Scheduler) Push(id string, seq event.Seq, due time.Time, now time.Time) bool {
	h := s.hooks[id]
	if h == nil {
		return false
	}
	if due.IsZero() {
		due = now
	}
	h.queue.push(item{seq: seq, due: nanos(due)})
	s.update(h)
	return true
}

// Next hands out one delivery that may be attempted at now: due, its
// webhook enabled, not paused, breaker closed (or half-open with no probe
// in flight), under max in flight, with a token in the bucket. The
// delivery is in flight until Done (or Hold). ok is false when nothing may
// go now; Wake says when to ask again. Webhooks that are eligible at once
// take turns: one delivery each, round-robin.
//
// It costs O(log n) in the webhooks that can send, whatever the number of
// webhooks and deliveries that wait. now is not expected to go back from
// one call to the next; if it does (the wall clock was set back), that
// call costs O(webhooks), and the turns start again from now.
func (s *Scheduler) Next(now time.Time) (id string, seq event.Seq, ok bool) {
	n := nanos(now)
	s.rewind(n)
	if len(s.ready) == 0 || s.ready[0].key > n {
		return "", event.Seq{}, false
	}
	h := s.ready[0]
	if len(h.held) > 0 {
		h.unhold(math.MaxInt64) // key <= now: the hold is over
	}
	it := h.queue.pop()
	h.busy = append(h.busy, it.seq)
	h.bucket.take(n)
	s.ticket++
	h.served, h.ticket = n, s.ticket
	s.update(h)
	return h.id, it.seq, true
}

// Wake is the earliest time at which Next may hand out something that it
// cannot hand out now, or the zero time if only a Done, Push, Set or
// MakeDue can change that. It is not later than any queued delivery's
// eligible time. Right after Next reported false, Wake is exactly the
// time the next delivery becomes eligible (Next at Wake hands it out, if
// nothing changed meanwhile). While Next could still hand out something
// (the engine stopped asking because its workers are busy), Wake is at or
// before the last now Next was given: the engine then waits for a worker,
// not for the time.
func (s *Scheduler) Wake() time.Time {
	if len(s.ready) == 0 {
		return time.Time{}
	}
	return time.Unix(0, s.ready[0].key)
}

// Done ends the attempt of seq to webhook id that Next handed out, with
// its outcome for the endpoint's health. It frees the in-flight slot.
// Success closes the breaker and ends the failure run; Failure counts
// toward the breaker and the failure run, which begins at the now of its
// first Failure. Each Failure at or past the consecutive BreakerFailures-th
// opens the breaker again, for the next cooldown. disable is true when
// this failure makes the endpoint fail continuously for
// Limits.DisableAfter (and for every later failure of the run, so that a
// disable that did not happen is asked for again), but never for a webhook
// that is disabled already: the engine then disables the webhook. Done of
// an unknown webhook or seq does nothing. Done does not queue seq again:
// the engine Pushes it if it is retried, before it calls Next again (for
// an ordered webhook, a retried head that is not back in the queue lets
// the next delivery go first).
func (s *Scheduler) Done(id string, seq event.Seq, o Outcome, now time.Time) (disable bool) {
	h := s.hooks[id]
	if h == nil || !h.release(seq) {
		return false
	}
	h.misses = 0
	switch o {
	case Success:
		h.healthy()
	case Failure:
		disable = h.fail(nanos(now))
	}
	s.update(h)
	return disable
}

// Pause holds back every delivery of webhook id until until, for reason
// (the receiver's Retry-After). A longer pause already in place wins. A
// breaker that is open waits for the pause as well: its first probe goes
// at the later of the two.
func (s *Scheduler) Pause(id string, until time.Time, reason string) {
	h := s.hooks[id]
	if h == nil {
		return
	}
	if u := nanos(until); u > h.pauseUntil {
		h.pauseUntil, h.pauseReason = u, reason
		s.update(h)
	}
}

// Paused returns the pause in place for webhook id at now, if any: the
// later of the receiver's pause (Pause) and a hold (Hold), with its
// reason.
func (s *Scheduler) Paused(id string, now time.Time) (until time.Time, reason string, ok bool) {
	h := s.hooks[id]
	if h == nil {
		return time.Time{}, "", false
	}
	u, reason, ok := h.pause(nanos(now))
	if !ok {
		return time.Time{}, "", false
	}
	return time.Unix(0, u), reason, true
}

// Hold queues seq (just handed out by Next, and now ended without an
// attempt) again at until because the webhook's transform plugin is not
// loaded, and pauses the whole webhook until then for reason. It counts a
// miss, once per round: only when no hold was in place at now (a
// receiver's pause does not count as one). Misses gives the count, for the
// engine's backoff of re-checks. Done must not be called for seq as well.
// Hold of a seq that is not in flight does nothing.
func (s *Scheduler) Hold(id string, seq event.Seq, until time.Time, reason string, now time.Time) {
	h := s.hooks[id]
	if h == nil || !h.release(seq) {
		return
	}
	if nanos(now) >= h.holdUntil {
		h.misses++
	}
	u := nanos(until)
	if u > h.holdUntil {
		h.holdUntil, h.holdReason = u, reason
	}
	h.held = append(h.held, item{seq: seq, due: u})
	s.update(h)
}

// Misses is how many checks in a row found webhook id's transform missing
// (Hold). Done with Success or Failure, or with Unsent, resets it.
func (s *Scheduler) Misses(id string) int {
	if h := s.hooks[id]; h != nil {
		return h.misses
	}
	return 0
}

// ReleaseHolds ends every hold (not a Retry-After pause): held deliveries
// are due at now (or at their own due time, if that is earlier) and the
// miss counts reset. The engine calls it when the loaded plugins change.
// It costs O(webhooks).
func (s *Scheduler) ReleaseHolds(now time.Time) {
	n := nanos(now)
	for _, h := range s.hooks {
		if h.holdUntil == never && len(h.held) == 0 && h.misses == 0 {
			continue
		}
		h.unhold(n)
		h.holdUntil, h.holdReason, h.misses = never, "", 0
		s.update(h)
	}
}

// MakeDue makes the queued deliveries of seqs to webhook id due at now, or
// leaves them due earlier if they are (an operator's retry or replay). It
// returns the seqs it did not find queued or in flight (all of them if id
// is unknown): the caller Pushes those. Seqs in flight are left alone
// (they are being attempted right now). A pause or hold in place still
// holds them back. It costs O(queued + len(seqs)).
func (s *Scheduler) MakeDue(id string, seqs []event.Seq, now time.Time) (absent []event.Seq) {
	h := s.hooks[id]
	if h == nil {
		return slices.Clone(seqs)
	}
	found := make(map[event.Seq]bool, len(seqs))
	for _, seq := range seqs {
		found[seq] = false
	}
	n := nanos(now)
	mark := func(items []item) (changed bool) {
		for i := range items {
			it := &items[i]
			if _, ok := found[it.seq]; !ok {
				continue
			}
			found[it.seq] = true
			if it.due > n {
				it.due, changed = n, true
			}
		}
		return changed
	}
	if mark(h.queue.items) {
		h.queue.init()
	}
	mark(h.held)
	for _, seq := range h.busy {
		if _, ok := found[seq]; ok {
			found[seq] = true
		}
	}
	for _, seq := range seqs {
		if !found[seq] {
			absent = append(absent, seq)
		}
	}
	s.update(h)
	return absent
}

// InFlight reports whether the delivery of seq to webhook id is in flight.
func (s *Scheduler) InFlight(id string, seq event.Seq) bool {
	h := s.hooks[id]
	return h != nil && slices.Contains(h.busy, seq)
}

// Drain removes and returns the queued (not in flight) deliveries of
// webhook id, held ones included, in queue order. Its pause, hold and
// breaker stay as they are.
func (s *Scheduler) Drain(id string) []event.Seq {
	h := s.hooks[id]
	if h == nil {
		return nil
	}
	all := append(h.queue.items, h.held...)
	h.queue.items, h.held = nil, nil
	slices.SortFunc(all, h.queue.compare)
	out := make([]event.Seq, len(all))
	for i, it := range all {
		out[i] = it.seq
	}
	s.update(h)
	return out
}

// Stats counts one webhook's deliveries: queued and in flight.
type Stats struct {
	Queued, InFlight int
}

// Stats returns webhook id's counts (zero if unknown). Queued counts held
// deliveries.
func (s *Scheduler) Stats(id string) Stats {
	h := s.hooks[id]
	if h == nil {
		return Stats{}
	}
	return Stats{Queued: h.queue.len() + len(h.held), InFlight: len(h.busy)}
}

// update puts h at its place in the ready heap, or takes it out if it
// cannot send until something changes. Every method that changes what h
// can do calls it.
func (s *Scheduler) update(h *hook) {
	at, ok := h.eligible()
	if !ok {
		s.ready.remove(h)
		return
	}
	h.key = max(at, h.served)
	s.ready.fix(h)
}

// rewind brings the webhooks' turns back to now if now is earlier than
// the last one Next was given: a turn in the future would hold back a
// webhook that can send.
func (s *Scheduler) rewind(now int64) {
	if now >= s.last {
		s.last = now
		return
	}
	s.last = now
	for _, h := range s.hooks {
		if h.served > now {
			h.served = now
			if h.index >= 0 {
				s.update(h)
			}
		}
	}
}
