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
	// Secret is the full signing secret ("whsec_..."). The API shows it only
	// in the create response; elsewhere it shows SecretHint.
	Secret string `json:"secret"`
	Delivery
	// Managed is ManagedByConfig for webhooks declared in the config file, and
	// empty for webhooks created through the API.
	Managed string `json:"managed,omitempty"`
	// ConfigEnabled is the enabled value the config file asked for when it was
	// last applied. A config change to enabled wins over the API; an unchanged
	// config leaves the API's choice alone (a three-way merge).
	ConfigEnabled *bool     `json:"config_enabled,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
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
