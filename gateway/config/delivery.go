package config

import (
	"fmt"
	"net/netip"
	"time"
)

// Delivery tunes webhook delivery.
type Delivery struct {
	// Workers is the global number of concurrent HTTP attempts.
	Workers int `koanf:"workers"`
	// Timeout bounds one attempt: connect, send, and read the response.
	Timeout time.Duration `koanf:"timeout"`
	// RetrySchedule is the wait before each retry; after the last one the
	// delivery is dead. Each wait gets ±20% jitter. An empty list means no
	// retries: one attempt, then dead.
	RetrySchedule []time.Duration `koanf:"retry_schedule"`
	// MaxResponseBytes caps the response body kept with each attempt.
	MaxResponseBytes int `koanf:"max_response_bytes"`
	// MaxInFlight is the default per-webhook concurrency.
	MaxInFlight int `koanf:"max_in_flight"`
	// BreakerFailures opens a webhook's circuit breaker after that many
	// consecutive failures: its deliveries then wait together and one probe
	// at a time tests the endpoint.
	BreakerFailures int `koanf:"breaker_failures"`
	// DisableAfter disables a webhook that has failed continuously for this
	// long; its deliveries are parked, not dropped.
	DisableAfter time.Duration `koanf:"disable_after"`
	// SecretOverlap is how long a rotated-out secret keeps signing.
	SecretOverlap time.Duration `koanf:"secret_overlap"`
	// ShutdownGrace is how long in-flight attempts may finish on SIGTERM.
	ShutdownGrace time.Duration `koanf:"shutdown_grace"`
	// Retention is how long finished deliveries, attempts and events are
	// kept.
	Retention time.Duration `koanf:"retention"`
	// AllowPrivate lets deliveries reach private, loopback and link-local
	// addresses. Off by default (SSRF guard).
	AllowPrivate bool `koanf:"allow_private"`
	// AllowedCIDRs opens the SSRF guard for these ranges only.
	AllowedCIDRs []string `koanf:"allowed_cidrs"`
}

// DefaultRetrySchedule is the Standard Webhooks style schedule: seven
// retries over about 28 hours.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
}

func defaultDelivery() Delivery {
	return Delivery{
		Workers:          64,
		Timeout:          15 * time.Second,
		RetrySchedule:    DefaultRetrySchedule(),
		MaxResponseBytes: 4 << 10,
		MaxInFlight:      8,
		BreakerFailures:  5,
		DisableAfter:     5 * 24 * time.Hour,
		SecretOverlap:    24 * time.Hour,
		ShutdownGrace:    10 * time.Second,
		Retention:        7 * 24 * time.Hour,
	}
}

// Limits Validate applies to the delivery section.
const (
	MaxWorkers       = 4096
	MaxRetries       = 50
	MaxRetryWait     = 7 * 24 * time.Hour
	MaxResponseBytes = 1 << 20
)

func (d *Delivery) validate(ps *problems) {
	if d.Workers < 1 || d.Workers > MaxWorkers {
		ps.addf("delivery.workers", "must be from 1 to %d, got %d", MaxWorkers, d.Workers)
	}
	if d.Timeout <= 0 || d.Timeout > 5*time.Minute {
		ps.addf("delivery.timeout", "must be greater than 0 and at most 5m, got %s", d.Timeout)
	}
	validateSchedule(ps, "delivery.retry_schedule", d.RetrySchedule)
	if d.MaxResponseBytes < 0 || d.MaxResponseBytes > MaxResponseBytes {
		ps.addf("delivery.max_response_bytes", "must be from 0 to %d, got %d", MaxResponseBytes, d.MaxResponseBytes)
	}
	if d.MaxInFlight < 1 || d.MaxInFlight > MaxWorkers {
		ps.addf("delivery.max_in_flight", "must be from 1 to %d, got %d", MaxWorkers, d.MaxInFlight)
	}
	if d.BreakerFailures < 1 {
		ps.addf("delivery.breaker_failures", "must be at least 1, got %d", d.BreakerFailures)
	}
	for _, x := range []struct {
		key string
		val time.Duration
	}{
		{"disable_after", d.DisableAfter},
		{"secret_overlap", d.SecretOverlap},
		{"shutdown_grace", d.ShutdownGrace},
		{"retention", d.Retention},
	} {
		if x.val <= 0 {
			ps.addf("delivery."+x.key, "must be greater than 0, got %s", x.val)
		}
	}
	for i, c := range d.AllowedCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			ps.addf(fmt.Sprintf("delivery.allowed_cidrs[%d]", i), "must be a CIDR such as 127.0.0.0/8 or fd00::/8, got %q", c)
		}
	}
}

func validateSchedule(ps *problems, path string, s []time.Duration) {
	if len(s) > MaxRetries {
		ps.addf(path, "has %d retries, more than the limit of %d", len(s), MaxRetries)
	}
	for i, d := range s {
		if d <= 0 || d > MaxRetryWait {
			ps.addf(fmt.Sprintf("%s[%d]", path, i), "must be greater than 0 and at most %s, got %s", MaxRetryWait, d)
		}
	}
}
