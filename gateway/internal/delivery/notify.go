package delivery

import (
	"encoding/json"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
)

// Operational event types the engine reports to Options.Observer.
const (
	TypeDeliverySucceeded = outbox.TypeDeliverySucceeded
	TypeDeliveryFailed    = outbox.TypeDeliveryFailed
	TypeDeliveryDead      = outbox.TypeDeliveryDead
	TypeWebhookDisabled   = outbox.TypeWebhookDisabled
)

// opEvent is the data of a delivery's operational event.
type opEvent struct {
	DeliveryID    string `json:"delivery_id,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	EventType     string `json:"event_type,omitempty"`
	WebhookID     string `json:"webhook_id"`
	Attempts      int    `json:"attempts,omitempty"`
	StatusCode    int    `json:"status_code,omitempty"`
	Error         string `json:"error,omitempty"`
	NextAttemptAt string `json:"next_attempt_at,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// observes reports whether an observer listens to operational events of
// type typ.
func (e *Engine) observes(typ string) bool {
	return e.opts.Observer != nil && e.opts.Observer.Observes(typ)
}

// notify reports one operational event; callers check observes first, so
// nothing is built for a type no one listens to.
func (e *Engine) notify(typ string, data opEvent) {
	b, _ := json.Marshal(data)
	now := e.now().UTC()
	e.opts.Observer.Observe(event.Event{ID: "op_" + e.opIDs.Next().String(), Type: typ, Source: "gateway", Time: now, Data: b})
}

// notifyOutcome reports what an attempt came to (typ, from
// outbox.Effects.Notify), if anyone listens.
func (e *Engine) notifyOutcome(typ string, d *outbox.Delivery) {
	if !e.observes(typ) {
		return
	}
	data := opEvent{DeliveryID: d.ID(), EventID: d.EventID, EventType: d.EventType, WebhookID: d.WebhookID,
		Attempts: d.Attempts, StatusCode: d.LastStatus, Error: d.LastError}
	if d.Status == outbox.StatusFailed {
		data.NextAttemptAt = d.NextAttemptAt.UTC().Format(time.RFC3339Nano)
	}
	e.notify(typ, data)
}
