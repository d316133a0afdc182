package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Limits on per-webhook delivery settings.
const (
	MaxInFlightLimit = 4096
	MaxRetries       = 50
	MaxRetryWait     = 7 * 24 * time.Hour
)

// Delivery holds a webhook's delivery settings. Zero values mean "use the
// gateway's default" (delivery.* in the config).
type Delivery struct {
	// MaxInFlight caps concurrent attempts to this endpoint.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// RateLimit caps attempts per second (token bucket); 0 means no limit.
	RateLimit float64 `json:"rate_limit,omitempty"`
	// RetrySchedule overrides the gateway's retry schedule. Nil means the
	// gateway's; an empty list means no retries (one attempt, then dead).
	RetrySchedule Durations `json:"retry_schedule,omitzero"`
	// Ordered delivers one event at a time, in event order: the next waits
	// until the previous one has succeeded, is dead or was dropped.
	Ordered bool `json:"ordered,omitempty"`
	// Transform names a transform plugin applied to this webhook's copy of
	// each event only.
	Transform string `json:"transform,omitempty"`
}

// DeliverySpec is the user-supplied part of Delivery; nil means "not given".
type DeliverySpec struct {
	MaxInFlight   *int
	RateLimit     *float64
	RetrySchedule *Durations
	Ordered       *bool
	Transform     *string
}

func (d DeliverySpec) validate() Problems {
	var ps Problems
	if d.MaxInFlight != nil && (*d.MaxInFlight < 0 || *d.MaxInFlight > MaxInFlightLimit) {
		ps.addf("max_in_flight", "must be from 1 to %d (0 means the gateway default), got %d", MaxInFlightLimit, *d.MaxInFlight)
	}
	if d.RateLimit != nil && (*d.RateLimit < 0 || *d.RateLimit > 1e6) {
		ps.addf("rate_limit", "must be from 0 (no limit) to 1000000 events per second, got %v", *d.RateLimit)
	}
	if d.RetrySchedule != nil {
		s := *d.RetrySchedule
		if len(s) > MaxRetries {
			ps.addf("retry_schedule", "has %d retries, more than the limit of %d", len(s), MaxRetries)
		}
		for i, w := range s {
			if w <= 0 || w > MaxRetryWait {
				ps.addf(fmt.Sprintf("retry_schedule[%d]", i), "must be greater than 0 and at most %s, got %s", MaxRetryWait, w)
			}
		}
	}
	return ps
}

func (d DeliverySpec) apply(to *Delivery) {
	if d.MaxInFlight != nil {
		to.MaxInFlight = *d.MaxInFlight
	}
	if d.RateLimit != nil {
		to.RateLimit = *d.RateLimit
	}
	if d.RetrySchedule != nil {
		// Never nil: an empty list (no retries) is not "the default".
		to.RetrySchedule = append(Durations{}, *d.RetrySchedule...)
	}
	if d.Ordered != nil {
		to.Ordered = *d.Ordered
	}
	if d.Transform != nil {
		to.Transform = *d.Transform
	}
}

// Durations is a list of durations written as strings ("5s", "30m") in
// JSON, like in the config file.
type Durations []time.Duration

// MarshalJSON writes the durations as strings.
func (ds Durations) MarshalJSON() ([]byte, error) {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads durations written as strings; null is nil, and []
// an empty (non-nil) list.
func (ds *Durations) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*ds = nil
		return nil
	}
	var raw []string
	if err := json.Unmarshal(b, &raw); err != nil {
		return &DurationsError{Msg: `must be a list of durations such as ["1s", "5m"]`}
	}
	out := make(Durations, len(raw))
	for i, r := range raw {
		d, err := time.ParseDuration(r)
		if err != nil {
			return &DurationsError{Msg: fmt.Sprintf("element %d: %q is not a duration such as \"30s\" or \"5m\"", i, r)}
		}
		out[i] = d
	}
	*ds = out
	return nil
}

// DurationsError is a malformed list of durations in a JSON body.
type DurationsError struct{ Msg string }

func (e *DurationsError) Error() string { return e.Msg }
