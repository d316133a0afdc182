package config

import (
	"log/slog"
	"strings"
	"time"
)

// Config is the whole gateway configuration. Load returns it validated; it is
// never modified afterwards and is passed explicitly to whatever needs it.
type Config struct {
	Server   Server    `koanf:"server"`
	Storage  Storage   `koanf:"storage"`
	Ingest   Ingest    `koanf:"ingest"`
	Auth     Auth      `koanf:"auth"`
	Log      Log       `koanf:"log"`
	Audit    Audit     `koanf:"audit"`
	Delivery Delivery  `koanf:"delivery"`
	Plugins  []Plugin  `koanf:"plugins"`
	Webhooks []Webhook `koanf:"webhooks"`

	// PluginLimits bound all plugins together (plugins.go).
	PluginLimits GlobalPluginLimits `koanf:"plugin_limits"`
	// Later sections (metrics) are added here as fields of their own struct
	// type; Defaults and Validate grow with them.
}

// Server is the HTTP front door.
type Server struct {
	// Addr is host:port to listen on. Port 0 picks a free port (tests).
	Addr string `koanf:"addr"`
	// MaxBodyBytes caps every request body; larger bodies get 413.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// net/http server timeouts.
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	ReadTimeout       time.Duration `koanf:"read_timeout"`
	WriteTimeout      time.Duration `koanf:"write_timeout"`
	IdleTimeout       time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGINT or SIGTERM.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// Storage is where events and registrations are kept.
type Storage struct {
	// Path is the Badger directory. Required unless Memory is true.
	Path string `koanf:"path"`
	// Memory keeps everything in RAM (tests only: nothing survives a restart).
	Memory bool `koanf:"memory"`
	// Sync makes every acknowledged event reach the disk (fsync) before the
	// 202 is sent. Group commit keeps this cheap; turn it off only if losing
	// the last few hundred milliseconds of events on power loss is acceptable.
	Sync bool `koanf:"sync"`
	// MinFreeBytes is the free space, beyond what the store keeps for its
	// own files, below which new events are refused with 507 and /readyz
	// answers 503 (package diskspace). 0 means the default: 256 MiB or 2%
	// of the filesystem, whichever is smaller. -1 turns the check off.
	MinFreeBytes int64 `koanf:"min_free_bytes"`
}

// Ingest tunes the publish API.
type Ingest struct {
	// IdempotencyWindow is how long an Idempotency-Key or client event id is
	// remembered.
	IdempotencyWindow time.Duration `koanf:"idempotency_window"`
	// MaxBatchEvents caps POST /v1/events/batch (at most 1000).
	MaxBatchEvents int `koanf:"max_batch_events"`
	// MaxJSONDepth caps how deeply objects and arrays nest in a request
	// body (default 64, at most 1000); deeper bodies get 400 too_deep.
	MaxJSONDepth int `koanf:"max_json_depth"`
}

// Auth lists the API keys. With no keys the API is open, which is only
// allowed on a loopback address.
type Auth struct {
	APIKeys []APIKey `koanf:"api_keys"`
}

// Scopes an API key can hold.
const (
	ScopePublish = "publish"
	ScopeAdmin   = "admin"
)

// APIKey is one bearer token and what it may do.
type APIKey struct {
	Name string `koanf:"name"`
	// Key is the token itself. Prefer KeyEnv, so that secrets stay out of
	// the file. Load fills Key from KeyEnv.
	Key    string   `koanf:"key"`
	KeyEnv string   `koanf:"key_env"`
	Scopes []string `koanf:"scopes"`
}

// Log configures the process logger.
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text or json
}

// Audit says where the audit trail goes (package audit): failed auth,
// changes through the API, blocked dials and plugin timeouts.
type Audit struct {
	// File is a path the audit lines are appended to as JSON, created with
	// mode 0600. Empty (the default) writes them to the main log, marked
	// "audit": true.
	File string `koanf:"file"`
}

// Webhook is a webhook declared in the config file. It has the same fields
// as the API, plus a fixed ID. Declared webhooks are upserted at start and
// marked as managed by the config.
type Webhook struct {
	ID          string   `koanf:"id"`
	URL         string   `koanf:"url"`
	EventTypes  []string `koanf:"event_types"`
	Description string   `koanf:"description"`
	// Secret is the "whsec_..." signing secret. Prefer SecretEnv, which
	// names the environment variable holding it; Load fills Secret from it.
	// With neither set, the secret is left to the gateway.
	Secret    string `koanf:"secret"`
	SecretEnv string `koanf:"secret_env"`
	// Headers are sent with every delivery; reserved names are rejected.
	Headers map[string]string `koanf:"headers"`
	// Enabled defaults to true. Nil means "not set in the file".
	Enabled *bool `koanf:"enabled"`
	// MaxInFlight caps concurrent deliveries to this webhook (default
	// delivery.max_in_flight).
	MaxInFlight int `koanf:"max_in_flight"`
	// RateLimit caps deliveries per second (0: no limit).
	RateLimit float64 `koanf:"rate_limit"`
	// RetrySchedule overrides delivery.retry_schedule for this webhook; an
	// empty list ([]) means no retries, and nil (absent or null) means
	// delivery.retry_schedule.
	RetrySchedule []time.Duration `koanf:"retry_schedule"`
	// Ordered delivers matching events one at a time in event order.
	Ordered bool `koanf:"ordered"`
	// Transform names a transform plugin applied to this webhook's copy of
	// each event only. The plugin must be declared with kind: transform.
	// If it is not loaded, the webhook's deliveries wait (fail closed).
	Transform string `koanf:"transform"`
}

// IsEnabled reports whether the webhook should deliver: Enabled, or true
// when the file does not say.
func (w Webhook) IsEnabled() bool { return w.Enabled == nil || *w.Enabled }

// HasAuth reports whether API keys are configured. Without keys the API is
// open, which Validate allows only on a loopback address.
func (c *Config) HasAuth() bool { return len(c.Auth.APIKeys) > 0 }

// SlogLevel returns Log.Level as a slog.Level. Unknown levels, which
// Validate rejects, map to slog.LevelInfo.
func (c *Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.Log.Level) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
