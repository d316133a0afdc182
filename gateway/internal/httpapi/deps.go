package httpapi

import (
	"context"
	"log/slog"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Appender stores events durably; it returns only after they are on disk.
type Appender interface {
	Append(ctx context.Context, drafts []store.Draft) ([]store.Appended, error)
}

// EventReader reads stored events.
type EventReader interface {
	Event(ctx context.Context, id string) (event.Event, error)
	Events(ctx context.Context, q store.Query) ([]event.Event, bool, error)
}

// Webhooks reads and changes webhook registrations.
type Webhooks interface {
	Webhook(ctx context.Context, id string) (webhook.Webhook, error)
	Webhooks(ctx context.Context, before string, limit int) ([]webhook.Webhook, bool, error)
	MutateWebhook(ctx context.Context, id string, fn func(cur *webhook.Webhook) (*webhook.Webhook, error)) (*webhook.Webhook, error)
}

// Progress tells whether an event has been handed to every durable
// subscriber; it drives the event's status.
type Progress interface {
	Dispatched(seq event.Seq) bool
}

// Key is an API key, reduced to what authentication needs.
type Key struct {
	Name   string
	Secret string
	Scopes []string
}

// Options configure New.
type Options struct {
	Appender Appender
	Events   EventReader
	Webhooks Webhooks
	Progress Progress
	// Ready reports whether the gateway can take traffic (/readyz).
	Ready func() bool
	// Keys are the API keys. With none, every request is allowed (the config
	// only permits that on a loopback address).
	Keys []Key
	// MaxBodyBytes caps request bodies (413 above it).
	MaxBodyBytes int64
	// MaxBatchEvents caps POST /v1/events/batch.
	MaxBatchEvents int
	Version        string
	Logger         *slog.Logger
	// NewID returns a fresh time-ordered id for webhooks.
	NewID func() event.Seq
}
