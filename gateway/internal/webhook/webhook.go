package webhook

import (
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// IDPrefix is prepended to server-assigned webhook ids.
const IDPrefix = "wh_"

// ManagedByConfig is the Managed value of webhooks declared in gateway.yaml.
const ManagedByConfig = "config"

// Webhook is a registered endpoint and the event types it subscribes to.
type Webhook struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	EventTypes  []string          `json:"event_types"`
	Description string            `json:"description,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Enabled     bool              `json:"enabled"`
	// DisabledReason says why the gateway disabled the webhook (410 Gone,
	// failing for too long); empty when enabled or disabled through the API.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Secret is the full signing secret: "whsec_..." (v1) or a "whsk_..."
	// Ed25519 private key (v1a). The API shows a "whsec_" secret only in the
	// create and rotate answers and GET .../secret, and a "whsk_" key never
	// (only its public key, VerificationKey); elsewhere it shows SecretHint.
	Secret string `json:"secret"`
	// PreviousSecrets are rotated-out secrets that still sign, next to the
	// current one, until they expire (delivery.secret_overlap).
	PreviousSecrets []PreviousSecret `json:"previous_secrets,omitempty"`
	Delivery
	// Managed is ManagedByConfig for webhooks declared in the config file, and
	// empty for webhooks created through the API.
	Managed string `json:"managed,omitempty"`
	// ConfigEnabled is the enabled value the config file asked for when it was
	// last applied. A config change to enabled wins over the API; an unchanged
	// config leaves the API's choice alone (a three-way merge).
	ConfigEnabled *bool `json:"config_enabled,omitempty"`
	// ConfigSecret is true when the config file sets the secret; the API
	// then cannot rotate it.
	ConfigSecret bool      `json:"config_secret,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PreviousSecret is a rotated-out signing secret and when it stops signing.
type PreviousSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Rotate makes next the current secret. The current one keeps signing until
// now+overlap; previous secrets that have expired are dropped, and at most
// MaxPreviousSecrets are kept.
func (w *Webhook) Rotate(next string, now time.Time, overlap time.Duration) {
	kept := w.PreviousSecrets[:0:0]
	for _, p := range w.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			kept = append(kept, p)
		}
	}
	if w.Secret != "" && w.Secret != next {
		kept = append(kept, PreviousSecret{Secret: w.Secret, ExpiresAt: now.Add(overlap)})
	}
	if len(kept) > MaxPreviousSecrets {
		kept = kept[len(kept)-MaxPreviousSecrets:]
	}
	w.Secret, w.PreviousSecrets = next, kept
}

// MaxPreviousSecrets bounds how many rotated-out secrets still sign.
const MaxPreviousSecrets = 10

// SigningSecrets returns the secrets that sign at time now: the current one
// first, then every previous one still inside its overlap, and the earliest
// time one of those expires (zero if none will).
func (w *Webhook) SigningSecrets(now time.Time) (secrets []string, changesAt time.Time) {
	secrets = append(secrets, w.Secret)
	for _, p := range w.PreviousSecrets {
		if now.Before(p.ExpiresAt) {
			secrets = append(secrets, p.Secret)
			if changesAt.IsZero() || p.ExpiresAt.Before(changesAt) {
				changesAt = p.ExpiresAt
			}
		}
	}
	return secrets, changesAt
}

// Patterns parses the webhook's event types. Stored webhooks were validated
// on the way in, so an error here means a corrupted record.
func (w *Webhook) Patterns() (event.Patterns, error) {
	ps, _, err := event.ParsePatterns(w.EventTypes)
	return ps, err
}

// Spec is the user-supplied part of a webhook, as written in the API body or
// in the config file. Nil pointers mean "not given".
type Spec struct {
	URL         *string
	EventTypes  *[]string
	Description *string
	Secret      *string
	Headers     *map[string]string
	Enabled     *bool
	Delivery    DeliverySpec
}

// Validate reports every problem in s. Field names are relative to the spec
// ("url", "event_types[2]", "headers.Host"). When create is true, url and
// event_types are required.
func (s Spec) Validate(create bool) Problems {
	var ps Problems
	if s.URL == nil {
		if create {
			ps.add("url", "is required")
		}
	} else if err := ValidateURL(*s.URL); err != nil {
		ps.add("url", err.Error())
	}
	if s.EventTypes == nil {
		if create {
			ps.add("event_types", "is required: give at least one pattern, e.g. \"link.*\" or \">\"")
		}
	} else {
		ps = append(ps, validatePatterns(*s.EventTypes)...)
	}
	if s.Description != nil && len(*s.Description) > MaxDescriptionLen {
		ps.addf("description", "is longer than %d characters", MaxDescriptionLen)
	}
	if s.Secret != nil {
		if err := ValidateSecret(*s.Secret); err != nil {
			ps.add("secret", err.Error())
		}
	}
	if s.Headers != nil {
		ps = append(ps, validateHeaders(*s.Headers)...)
	}
	return append(ps, s.Delivery.validate()...)
}

// Apply copies the given fields of s onto w.
func (s Spec) Apply(w *Webhook) {
	if s.URL != nil {
		w.URL = *s.URL
	}
	if s.EventTypes != nil {
		w.EventTypes = append([]string(nil), *s.EventTypes...)
	}
	if s.Description != nil {
		w.Description = *s.Description
	}
	if s.Secret != nil {
		w.Secret = *s.Secret
	}
	if s.Headers != nil {
		h := make(map[string]string, len(*s.Headers))
		for k, v := range *s.Headers {
			h[k] = v
		}
		w.Headers = h
	}
	if s.Enabled != nil {
		w.Enabled = *s.Enabled
	}
	s.Delivery.apply(&w.Delivery)
}
