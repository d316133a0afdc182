package outbox

import (
	"strings"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// Delivery states.
const (
	// StatusPending: waiting for its first attempt.
	StatusPending = "pending"
	// StatusSucceeded: an attempt got a 2xx.
	StatusSucceeded = "succeeded"
	// StatusFailed: the last attempt failed; the next is at NextAttemptAt.
	StatusFailed = "failed"
	// StatusDead: every retry failed; nothing more happens on its own.
	StatusDead = "dead"
	// StatusParked: the webhook is disabled; the delivery waits, kept, and
	// resumes when the webhook is enabled again.
	StatusParked = "parked"
	// StatusDropped: a plugin decided it is not sent (the webhook's own
	// transform dropped it, or the pipeline stopped the event); nothing was
	// sent and it is no success.
	StatusDropped = "dropped"
)

// Finished reports whether status is final (nothing more will be sent).
func Finished(status string) bool {
	return status == StatusSucceeded || status == StatusDead || status == StatusDropped
}

// IDPrefix starts every delivery id.
const IDPrefix = "dlv_"

// Delivery is one event to one webhook. Its id is derived from the event's
// seq and the webhook id, so re-running a fan-out cannot duplicate it.
type Delivery struct {
	EventSeq  event.Seq `json:"-"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	WebhookID string    `json:"webhook_id"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	// ScheduleBase is Attempts when the delivery was last reopened (a retry
	// or replay of a finished delivery), so that the retry schedule counts
	// from there.
	ScheduleBase  int       `json:"schedule_base,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastStatus    int       `json:"last_status_code,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	// Note records why the delivery is in its state when an operator or the
	// gateway put it there ("webhook disabled: 410 Gone", "discarded").
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ID returns the delivery's public id: "dlv_" + event seq + "_" + webhook id.
func (d *Delivery) ID() string { return IDPrefix + d.EventSeq.String() + "_" + d.WebhookID }

// ParseID splits a delivery id into event seq and webhook id.
func ParseID(id string) (event.Seq, string, bool) {
	rest, ok := strings.CutPrefix(id, IDPrefix)
	if !ok || len(rest) < 28 || rest[26] != '_' {
		return event.Seq{}, "", false
	}
	seq, err := event.ParseSeq(rest[:26])
	if err != nil {
		return event.Seq{}, "", false
	}
	return seq, rest[27:], true
}

// Attempt is one HTTP attempt of a delivery.
type Attempt struct {
	N          int               `json:"attempt"`
	StartedAt  time.Time         `json:"started_at"`
	DurationMS float64           `json:"duration_ms"`
	StatusCode int               `json:"status_code,omitempty"`
	Headers    map[string]string `json:"response_headers,omitempty"`
	Body       string            `json:"response_body,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// Update is a new state for a delivery, with the attempt that led to it,
// if any: the unit the store writes.
type Update struct {
	Delivery Delivery
	Attempt  *Attempt
}

// Waiting is an unfinished delivery as the scheduler needs it: which, and
// when it is due. Parked ones wait for their webhook to be enabled.
type Waiting struct {
	WebhookID string
	EventSeq  event.Seq
	Parked    bool
	// Due is when the next attempt is due (zero: now).
	Due time.Time
}
