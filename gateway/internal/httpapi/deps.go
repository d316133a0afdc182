package httpapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/plugins"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Appender stores events durably; Append returns only after they are on
// disk. Replays tells, without writing, which drafts Append would replay
// from a stored event (and fails as Append would for a reused key), so
// that a retried request is answered before the ingest filters run.
type Appender interface {
	Append(ctx context.Context, drafts []store.Draft) ([]store.Appended, error)
	Replays(ctx context.Context, drafts []store.Draft) ([]store.Appended, error)
}

// EventReader reads stored events.
type EventReader interface {
	Event(ctx context.Context, id string) (event.Event, error)
	Events(ctx context.Context, q store.Query) ([]event.Event, bool, error)
	// Outcome is what the plugin pipeline decided for the event, if it ran.
	Outcome(ctx context.Context, seq event.Seq) (store.Outcome, bool, error)
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

// DeliveryReader reads delivery records and their attempts.
type DeliveryReader interface {
	Delivery(ctx context.Context, id string) (outbox.Delivery, error)
	Deliveries(ctx context.Context, q store.DeliveryQuery) ([]outbox.Delivery, bool, error)
	Attempts(ctx context.Context, seq event.Seq, webhookID string) ([]outbox.Attempt, error)
}

// DeliveryControl acts on deliveries: the delivery engine.
type DeliveryControl interface {
	// WebhookChanged tells the engine a webhook was created, changed or
	// deleted.
	WebhookChanged(ctx context.Context, id string) error
	Retry(ctx context.Context, d outbox.Delivery) (outbox.Delivery, error)
	// Replay leaves out (and counts) events the plugin pipeline stopped.
	Replay(ctx context.Context, wh webhook.Webhook, ds []outbox.Delivery) (delivery.ReplayResult, error)
	DiscardParked(ctx context.Context, webhookID string) (int, error)
	// Paused is the pause that holds back the webhook's deliveries now
	// (the zero Pause: none).
	Paused(ctx context.Context, webhookID string) (delivery.Pause, error)
}

// PluginRegistry lists, uploads and deletes WebAssembly plugins: the
// plugins.Manager. Put loads the new version completely before it replaces
// the old one; its errors wrap plugins.ErrInvalid, ErrLoad or
// ErrManagedByConfig. It is called concurrently.
type PluginRegistry interface {
	List() []plugins.Info
	Put(ctx context.Context, s plugins.Settings, wasm []byte) (plugins.Info, error)
	Delete(ctx context.Context, name string) error
}

// PluginRunner runs a plugin on a sample event without side effects on the
// live pipeline (a dry run).
type PluginRunner interface {
	Invoke(ctx context.Context, name string, ev event.Event, webhookID string) (plugins.Invocation, error)
}

// Auditor writes the audit trail: audit.Log. Its methods must not block
// for long; they run on the request path.
type Auditor interface {
	// AuthFailed: a request refused for its API key.
	AuthFailed(remote, reason, keyHint string)
	// Changed: a webhook or plugin changed through the API, by the key
	// named actor.
	Changed(kind audit.Kind, action audit.Action, id, actor string)
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
	// Deliveries and Control serve the delivery endpoints; without them the
	// delivery routes answer 503.
	Deliveries DeliveryReader
	Control    DeliveryControl
	// CheckURL refuses webhook URLs the egress guard would block (a literal
	// private IP, say); nil accepts every URL.
	CheckURL func(rawURL string) error
	// SecretOverlap is how long a rotated-out secret keeps signing.
	SecretOverlap time.Duration
	// IngestFilter runs the stage: ingest filter plugins on an event before
	// it is stored; a deny answers 403 and stores nothing, a failure under
	// on_error: deny (v.Failed()) answers 503 with Retry-After. It never runs for
	// a draft that replays a stored event or an earlier draft of its
	// request, nor for a request refused for its idempotency key. Nil: none.
	IngestFilter func(ctx context.Context, ev *event.Event) (denied bool, v pipeline.Verdict)
	// HasIngestFilters reports whether IngestFilter has any filter to run
	// now; when it says no, a publish skips the idempotency lookup that
	// only the filters need (Append resolves the keys anyway). Nil: assume
	// there are.
	HasIngestFilters func() bool
	// Plugins and PluginRunner serve /v1/plugins; without them those
	// routes answer 503.
	Plugins      PluginRegistry
	PluginRunner PluginRunner
	// Backup serves POST /v1/admin/backup; nil answers 503 (in memory).
	Backup Backuper
	// MaxModuleBytes caps a module uploaded with PUT /v1/plugins/{name}
	// (default 32 MiB), in place of MaxBodyBytes.
	MaxModuleBytes int64
	// Ready reports whether the gateway can take traffic (/readyz).
	Ready func() bool
	// Space, when set, reports a shortage of disk space on the data
	// directory (a non-nil error). /readyz answers 503 with it while it
	// lasts; ingest learns it from the store (store.ErrNoSpace).
	Space SpaceReporter
	// Keys are the API keys. With none, every request is allowed (the config
	// only permits that on a loopback address).
	Keys []Key
	// MaxBodyBytes caps request bodies (413 above it).
	MaxBodyBytes int64
	// MaxPendingBytes caps the ingest bodies held in memory at once, from
	// reading to commit (503 ingest_overloaded above it); 0: no cap.
	MaxPendingBytes int64
	// MaxBatchEvents caps POST /v1/events/batch.
	MaxBatchEvents int
	Version        string
	Logger         *slog.Logger
	// Audit records refused keys and changes (nil: none).
	Audit Auditor
	// NewID returns a fresh time-ordered id for webhooks.
	NewID func() event.Seq
	// MaxJSONDepth caps the nesting of request bodies (ingest.max_json_depth;
	// 0 means jsonstrict.DefaultMaxDepth).
	MaxJSONDepth int
}

// SpaceReporter says whether the data directory is short of space;
// *diskspace.Watcher is one. Err must not block.
type SpaceReporter interface {
	Err() error
}
