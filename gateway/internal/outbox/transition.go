package outbox

import "time"

// Kind names what happened to a delivery.
type Kind uint8

// The transitions. The first three are the outcome of an HTTP attempt; the
// next four end a delivery without a request; the rest are the webhook's
// or an operator's decisions.
const (
	// AttemptSucceeded: the endpoint answered 2xx.
	AttemptSucceeded Kind = iota + 1
	// AttemptFailed: any other answer, or none. The delivery is retried on
	// the schedule, or dead when the schedule is spent.
	AttemptFailed
	// AttemptGone: the endpoint answered 410 Gone. The delivery is parked
	// and the webhook disabled (Effects.Endpoint is EndpointGone).
	AttemptGone
	// EventMissing: the event is no longer stored (retention removed it).
	EventMissing
	// EventStopped: the plugin pipeline stopped the event (a filter denied
	// it, a global transform dropped it). It is never sent.
	EventStopped
	// TransformMissing: the webhook's transform plugin is not loaded. The
	// delivery is not sent (fail closed: the untransformed copy may hold
	// what the transform exists to remove) and looks again at now+Recheck.
	TransformMissing
	// TransformDropped: the webhook's own transform dropped the delivery.
	TransformDropped
	// WebhookDisabled: the webhook was disabled; its unfinished deliveries
	// are parked.
	WebhookDisabled
	// WebhookEnabled: the webhook was enabled; its parked deliveries are
	// pending again.
	WebhookEnabled
	// WebhookDeleted: the webhook was deleted; its unfinished deliveries are
	// dead.
	WebhookDeleted
	// Retry: an operator asked for one more attempt now. A finished or
	// parked delivery is reopened with the whole retry schedule.
	Retry
	// Replay: an operator replayed the delivery: pending again, reopened,
	// whatever its status.
	Replay
	// Discard: an operator dropped a parked delivery: dead, on record.
	Discard
)

var kindNames = [...]string{
	AttemptSucceeded: "attempt succeeded", AttemptFailed: "attempt failed", AttemptGone: "attempt gone",
	EventMissing: "event missing", EventStopped: "event stopped", TransformMissing: "transform missing",
	TransformDropped: "transform dropped", WebhookDisabled: "webhook disabled", WebhookEnabled: "webhook enabled",
	WebhookDeleted: "webhook deleted", Retry: "retry", Replay: "replay", Discard: "discard",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "unknown transition"
}

// Notes: why a delivery is in its state, when the gateway or an operator
// put it there. Details that vary (which plugin, why) go to LastError.
const (
	NoteWebhookDisabled  = "webhook disabled"
	NoteWebhookDeleted   = "webhook deleted"
	NoteEventMissing     = "the event is no longer stored"
	NoteEventStopped     = "not sent: the plugin pipeline stopped the event"
	NoteTransformDropped = "not sent: the webhook's transform dropped it"
	NoteRetried          = "retry requested through the API"
	NoteReplayed         = "replayed through the API"
	NoteDiscarded        = "discarded through the API while the webhook was disabled"
)

// Reasons a webhook is disabled (Transition.Reason of WebhookDisabled, and
// the webhook's disabled_reason). A parked delivery's note is
// NoteWebhookDisabled + ": " + the reason.
const (
	ReasonGone     = "endpoint answered 410 Gone"
	ReasonFailing  = "failing continuously for delivery.disable_after"
	ReasonOperator = "disabled by an operator"
	ReasonConfig   = "disabled in the config"
)

// Endpoint is what a transition says about the endpoint's health.
type Endpoint uint8

const (
	// EndpointUnknown: nothing reached the endpoint.
	EndpointUnknown Endpoint = iota
	// EndpointUp: it answered 2xx.
	EndpointUp
	// EndpointDown: it failed the attempt.
	EndpointDown
	// EndpointGone: it answered 410 Gone; the webhook is to be disabled.
	EndpointGone
)

// Transition is what happened, with what it needs.
type Transition struct {
	Kind Kind
	// Attempt is the attempt's record (AttemptSucceeded, AttemptFailed,
	// AttemptGone). Step numbers it.
	Attempt *Attempt
	// RetryAfter is the receiver's Retry-After on a failed attempt (0:
	// none): a lower bound on the next attempt's wait, and a pause of the
	// whole endpoint.
	RetryAfter time.Duration
	// Recheck is how long a TransformMissing delivery waits before it looks
	// again.
	Recheck time.Duration
	// Reason is why a webhook was disabled (a Reason* constant).
	Reason string
	// Detail is the LastError of a delivery ended without a request
	// (EventStopped, TransformDropped, TransformMissing): which plugin, and
	// what it said.
	Detail string
}

// Policy is the webhook's retry policy.
type Policy struct {
	// Schedule is the waits before each retry: a delivery that has failed
	// n attempts since it was last reopened waits Schedule[n-1], and is dead
	// after len(Schedule)+1 failures.
	Schedule []time.Duration
	// Jitter spreads a wait (nil: none), so that deliveries that failed
	// together do not retry together.
	Jitter func(time.Duration) time.Duration
}

// Operational event types (gateway.* events a plugin may observe). Step
// names the one a transition reports in Effects.Notify.
const (
	TypeDeliverySucceeded = "gateway.delivery.succeeded"
	TypeDeliveryFailed    = "gateway.delivery.failed"
	TypeDeliveryDead      = "gateway.delivery.dead"
	TypeWebhookDisabled   = "gateway.webhook.disabled"
)

// Effects is what the engine carries out after a transition.
type Effects struct {
	// Write: the delivery changed; store it (with Attempt, if set).
	Write bool
	// Attempt is the attempt to store with the delivery.
	Attempt *Attempt
	// Queue: the delivery waits for an attempt at its NextAttemptAt (zero:
	// now).
	Queue bool
	// Notify is the operational event type to report once it is stored
	// ("" for none).
	Notify string
	// Endpoint is what the transition says about the endpoint's health,
	// for its breaker and auto-disable.
	Endpoint Endpoint
	// PauseUntil holds back every delivery of the endpoint until then (the
	// receiver's Retry-After speaks for the endpoint, not for one delivery).
	PauseUntil time.Time
	// Held: the delivery was sent back unsent because the webhook's
	// transform is missing; the endpoint is held until NextAttemptAt.
	Held bool
}

// Step is the delivery state machine: every status change of a delivery
// goes through it. It returns d as it is after t happened at now, and the
// effects to carry out. It is pure: it reads no clock and keeps nothing.
// A transition that does not apply to d's status (enabling a delivery that
// is not parked, discarding one that is not) returns d unchanged and no
// effects.
func Step(d Delivery, t Transition, now time.Time, p Policy) (Delivery, Effects) {
	now = now.UTC()
	var fx Effects
	switch t.Kind {
	case AttemptSucceeded, AttemptFailed, AttemptGone:
		return attempted(d, t, now, p)
	case EventMissing:
		d = finish(d, StatusDead, NoteEventMissing, d.LastError, now)
	case EventStopped:
		d = finish(d, StatusDropped, NoteEventStopped, t.Detail, now)
	case TransformDropped:
		d = finish(d, StatusDropped, NoteTransformDropped, t.Detail, now)
	case TransformMissing:
		// No attempt is counted and the status stays: nothing was sent.
		d.LastError, d.NextAttemptAt, d.UpdatedAt = t.Detail, now.Add(t.Recheck), now
		return d, Effects{Write: true, Queue: true, Held: true}
	case WebhookDisabled:
		if Finished(d.Status) || d.Status == StatusParked {
			return d, fx
		}
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = StatusParked, NoteWebhookDisabled+": "+t.Reason, time.Time{}, now
	case WebhookEnabled:
		if d.Status != StatusParked {
			return d, fx
		}
		d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = StatusPending, "", time.Time{}, now
		return d, Effects{Write: true, Queue: true}
	case WebhookDeleted:
		if Finished(d.Status) {
			return d, fx
		}
		d = finish(d, StatusDead, NoteWebhookDeleted, d.LastError, now)
	case Retry:
		if !Finished(d.Status) && d.Status != StatusParked {
			// Waiting for a retry already: it is due now.
			d.NextAttemptAt, d.UpdatedAt = time.Time{}, now
			return d, Effects{Write: true, Queue: true}
		}
		return reopen(d, NoteRetried, now), Effects{Write: true, Queue: true}
	case Replay:
		return reopen(d, NoteReplayed, now), Effects{Write: true, Queue: true}
	case Discard:
		if d.Status != StatusParked {
			return d, fx
		}
		d = finish(d, StatusDead, NoteDiscarded, d.LastError, now)
	default:
		return d, fx
	}
	return d, Effects{Write: true}
}

// attempted applies the outcome of an HTTP attempt.
func attempted(d Delivery, t Transition, now time.Time, p Policy) (Delivery, Effects) {
	d.Attempts++
	d.Note, d.UpdatedAt, d.NextAttemptAt = "", now, time.Time{}
	fx := Effects{Write: true}
	if a := t.Attempt; a != nil {
		a.N = d.Attempts
		d.LastStatus, d.LastError = a.StatusCode, a.Error
		fx.Attempt = a
	}
	switch t.Kind {
	case AttemptSucceeded:
		d.Status = StatusSucceeded
		fx.Notify, fx.Endpoint = TypeDeliverySucceeded, EndpointUp
	case AttemptGone:
		d.Status, d.Note = StatusParked, NoteWebhookDisabled+": "+ReasonGone
		fx.Endpoint = EndpointGone
	default:
		fx.Endpoint = EndpointDown
		if t.RetryAfter > 0 {
			fx.PauseUntil = now.Add(t.RetryAfter)
		}
		n := d.Attempts - d.ScheduleBase
		if n > len(p.Schedule) {
			d.Status, fx.Notify = StatusDead, TypeDeliveryDead
			break
		}
		wait := p.Schedule[n-1]
		if p.Jitter != nil {
			wait = p.Jitter(wait)
		}
		d.Status, d.NextAttemptAt = StatusFailed, now.Add(max(wait, t.RetryAfter))
		fx.Notify, fx.Queue = TypeDeliveryFailed, true
	}
	return d, fx
}

// finish ends d without a request, in status, with note and lastError.
func finish(d Delivery, status, note, lastError string, now time.Time) Delivery {
	d.Status, d.Note, d.LastError, d.NextAttemptAt, d.UpdatedAt = status, note, lastError, time.Time{}, now
	return d
}

// reopen makes d pending again with the whole retry schedule.
func reopen(d Delivery, note string, now time.Time) Delivery {
	d.Status, d.Note, d.NextAttemptAt, d.UpdatedAt = StatusPending, note, time.Time{}, now
	d.ScheduleBase = d.Attempts
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	return d
}
