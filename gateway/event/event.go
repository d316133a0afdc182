package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxTypeLen is the longest event type accepted.
const MaxTypeLen = 255

// MaxIDLen is the longest client-supplied event id accepted.
const MaxIDLen = 255

// Status values of an event. Later stages (filters, delivery) extend the set.
const (
	// StatusPending means the event is durable but not every durable
	// subscriber has processed it yet.
	StatusPending = "pending"
	// StatusDispatched means every durable subscriber has processed it.
	StatusDispatched = "dispatched"
	// StatusDenied means a filter plugin denied it (or a transform dropped
	// it): it is kept, with the verdicts, but not delivered.
	StatusDenied = "denied"
)

// Event is one accepted event. Data holds the raw JSON exactly as received;
// it is never re-serialised, so a subscriber sees the producer's bytes.
type Event struct {
	// Seq is the store's commit-ordered key (a ULID). Server-assigned ids are
	// "evt_" + Seq, so for them id order is time order.
	Seq Seq `json:"-"`
	// ID is the public id: server-assigned, or supplied by the client.
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source,omitempty"`
	Time   time.Time       `json:"time"`
	Data   json.RawMessage `json:"data"`
	// CloudEvent holds, for an event published as a CloudEvent, the context
	// attributes the gateway has no field of its own for, as one JSON
	// object: the producer's "id", and "time", "subject", "dataschema" and
	// extension attributes when present. Nil for a plain event.
	CloudEvent json.RawMessage `json:"cloudevent,omitempty"`
	// Status is derived when the event is read; it is not stored.
	Status string `json:"status,omitempty"`
}

// ErrInvalidType is wrapped by every type validation failure.
var ErrInvalidType = errors.New("invalid event type")

// ValidateType reports whether t is a valid event type: one or more
// dot-separated segments of [A-Za-z0-9_-], at most MaxTypeLen bytes.
func ValidateType(t string) error {
	if t == "" {
		return fmt.Errorf("%w: must not be empty", ErrInvalidType)
	}
	if len(t) > MaxTypeLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidType, MaxTypeLen)
	}
	segLen := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '.':
			if segLen == 0 {
				return fmt.Errorf("%w: empty segment at offset %d", ErrInvalidType, i)
			}
			segLen = 0
		case isTypeChar(c):
			segLen++
		default:
			return fmt.Errorf("%w: character %q at offset %d is not one of [A-Za-z0-9_-.]", ErrInvalidType, c, i)
		}
	}
	if segLen == 0 {
		return fmt.Errorf("%w: ends with an empty segment", ErrInvalidType)
	}
	return nil
}

// ValidateID reports whether a client-supplied id is acceptable: 1 to
// MaxIDLen printable ASCII characters without spaces, '/', '?', '#', '%' or
// '.', and not starting with IDPrefix. The id is the webhook-id of every
// delivery, and the Standard Webhooks spec asks for ids without a '.', since
// the signed content is id.timestamp.body. Ids end up in URLs,
// headers (webhook-id) and signed content, so the set is deliberately narrow.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("must not be empty")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("longer than %d characters", MaxIDLen)
	}
	if strings.HasPrefix(id, IDPrefix) {
		return fmt.Errorf("the %q prefix is reserved for ids the gateway assigns", IDPrefix)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c <= ' ' || c > '~' || c == '/' || c == '?' || c == '#' || c == '%' || c == '.' {
			return fmt.Errorf("character %q at offset %d is not allowed", c, i)
		}
	}
	return nil
}

func isTypeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
