package delivery

import (
	"encoding/json"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// Operational event types the engine reports through Options.Notify.
const (
	TypeDeliverySucceeded = "gateway.delivery.succeeded"
	TypeDeliveryFailed    = "gateway.delivery.failed"
	TypeDeliveryDead      = "gateway.delivery.dead"
	TypeWebhookDisabled   = "gateway.webhook.disabled"
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

// notify reports one operational event, if anyone listens.
func (e *Engine) notify(typ string, data opEvent) {
	if e.opts.Notify == nil {
		return
	}
	b, _ := json.Marshal(data)
	now := time.Now().UTC()
	e.opts.Notify(event.Event{ID: "op_" + e.opIDs.Next().String(), Type: typ, Source: "gateway", Time: now, Data: b})
}

// notifyOutcome reports what an attempt came to.
func (e *Engine) notifyOutcome(d *store.Delivery) {
	data := opEvent{DeliveryID: d.ID(), EventID: d.EventID, EventType: d.EventType, WebhookID: d.WebhookID,
		Attempts: d.Attempts, StatusCode: d.LastStatus, Error: d.LastError}
	switch d.Status {
	case store.StatusSucceeded:
		e.notify(TypeDeliverySucceeded, data)
	case store.StatusFailed:
		data.NextAttemptAt = d.NextAttemptAt.UTC().Format(time.RFC3339Nano)
		e.notify(TypeDeliveryFailed, data)
	case store.StatusDead:
		e.notify(TypeDeliveryDead, data)
	}
}
