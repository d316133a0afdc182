package schedule

import (
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// MaxCooldown caps how long an open breaker waits before its next probe.
const MaxCooldown = 10 * time.Minute

// Limits are the delivery limits of one webhook.
type Limits struct {
	// MaxInFlight is how many attempts may run at once (at least 1).
	// Ordered forces 1.
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
type Scheduler struct {
	// TODO(helper): implement.
}

// New returns an empty scheduler.
func New() *Scheduler { panic("not implemented") }

// Set adds webhook id, or changes its limits and whether it is enabled. A
// disabled webhook keeps its queue but hands out nothing (the engine
// Drains it when it parks the deliveries). Changing the rate limit starts
// a full bucket; changing Ordered re-sorts the queue. Enabling a webhook
// resets its breaker and failure run, so the failures that led to the
// disable cannot disable it again at the first new failure.
func (s *Scheduler) Set(id string, l Limits, enabled bool, now time.Time) { panic("not implemented") }

// Remove forgets webhook id and its queue. Attempts in flight may still
// call Done; it ignores them.
func (s *Scheduler) Remove(id string) { panic("not implemented") }

// Push queues the delivery of event seq to webhook id, due at due (zero:
// now). The caller never pushes a seq that is queued or in flight for the
// same webhook (MakeDue says which). It reports false if id is unknown.
func (s *Scheduler) Push(id string, seq event.Seq, due time.Time, now time.Time) bool {
	panic("not implemented")
}

// Next hands out one delivery that may be attempted at now: due, its
// webhook enabled, not paused, breaker closed (or half-open with no probe
// in flight), under max in flight, with a token in the bucket. The
// delivery is in flight until Done. ok is false when nothing may go now;
// Wake says when to ask again. Webhooks that are eligible at once take
// turns: one delivery each, round-robin.
func (s *Scheduler) Next(now time.Time) (id string, seq event.Seq, ok bool) { panic("not implemented") }

// Wake is the earliest time at which Next may hand out something that it
// cannot hand out now, or the zero time if only a Done, Push, Set or
// MakeDue can change that. It is not later than any queued delivery's
// eligible time.
func (s *Scheduler) Wake() time.Time { panic("not implemented") }

// Done ends the attempt of seq to webhook id that Next handed out, with
// its outcome for the endpoint's health. It frees the in-flight slot.
// Success closes the breaker and ends the failure run; Failure counts
// toward the breaker and the failure run. disable is true when this
// failure makes the endpoint fail continuously for Limits.DisableAfter:
// the engine then disables the webhook. Done of an unknown webhook or seq
// does nothing. Done does not queue seq again: the engine Pushes it if it
// is retried.
func (s *Scheduler) Done(id string, seq event.Seq, o Outcome, now time.Time) (disable bool) {
	panic("not implemented")
}

// Pause holds back every delivery of webhook id until until, for reason
// (the receiver's Retry-After). A longer pause already in place wins.
func (s *Scheduler) Pause(id string, until time.Time, reason string) { panic("not implemented") }

// Paused returns the pause in place for webhook id at now, if any.
func (s *Scheduler) Paused(id string, now time.Time) (until time.Time, reason string, ok bool) {
	panic("not implemented")
}

// Hold queues seq (just handed out by Next, and now ended without an
// attempt) again at until because the webhook's transform plugin is not
// loaded, and pauses the whole webhook until then for reason. It counts a
// miss, once per round: only when no hold was in place at now. Misses
// gives the count, for the engine's backoff of re-checks. Done must not be
// called for seq as well.
func (s *Scheduler) Hold(id string, seq event.Seq, until time.Time, reason string, now time.Time) {
	panic("not implemented")
}

// Misses is how many checks in a row found webhook id's transform missing
// (Hold). Done with Success or Failure, or with Unsent, resets it.
func (s *Scheduler) Misses(id string) int { panic("not implemented") }

// ReleaseHolds ends every hold (not a Retry-After pause): held deliveries
// are due at now and the miss counts reset. The engine calls it when the
// loaded plugins change.
func (s *Scheduler) ReleaseHolds(now time.Time) { panic("not implemented") }

// MakeDue makes the queued deliveries of seqs to webhook id due at now
// (an operator's retry or replay). It returns the seqs it did not find
// queued or in flight: the caller Pushes those. Seqs in flight are left
// alone (they are being attempted right now).
func (s *Scheduler) MakeDue(id string, seqs []event.Seq, now time.Time) (absent []event.Seq) {
	panic("not implemented")
}

// InFlight reports whether the delivery of seq to webhook id is in flight.
func (s *Scheduler) InFlight(id string, seq event.Seq) bool { panic("not implemented") }

// Drain removes and returns the queued (not in flight) deliveries of
// webhook id, in queue order.
func (s *Scheduler) Drain(id string) []event.Seq { panic("not implemented") }

// Stats counts one webhook's deliveries: queued and in flight.
type Stats struct {
	Queued, InFlight int
}

// Stats returns webhook id's counts (zero if unknown).
func (s *Scheduler) Stats(id string) Stats { panic("not implemented") }
