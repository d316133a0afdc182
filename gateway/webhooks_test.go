package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

const testSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

func TestMergeConfigWebhook(t *testing.T) {
	yes, no := true, false
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	stored := func(enabled bool, configEnabled *bool, managed string) *webhook.Webhook {
		return &webhook.Webhook{
			ID: "wh_a", URL: "https://old.example/", EventTypes: []string{"old"}, Secret: "whsec_old",
			Enabled: enabled, ConfigEnabled: configEnabled, Managed: managed, CreatedAt: created, UpdatedAt: created,
		}
	}
	declared := func(enabled *bool) config.Webhook {
		return config.Webhook{ID: "wh_a", URL: "https://new.example/", EventTypes: []string{"new.*"}, Enabled: enabled}
	}
	tests := []struct {
		name        string
		cur         *webhook.Webhook
		cw          config.Webhook
		wantEnabled bool
	}{
		{"created, enabled unset", nil, declared(nil), true},
		{"created disabled", nil, declared(&no), false},
		{"config unchanged keeps the API's disable", stored(false, &yes, webhook.ManagedByConfig), declared(nil), false},
		{"config unchanged keeps the API's enable", stored(true, &no, webhook.ManagedByConfig), declared(&no), true},
		{"unset and true are the same value", stored(false, &yes, webhook.ManagedByConfig), declared(&yes), false},
		{"config flips to false", stored(true, &yes, webhook.ManagedByConfig), declared(&no), false},
		{"config flips to true over the API", stored(false, &no, webhook.ManagedByConfig), declared(&yes), true},
		{"adopting an API webhook applies the config", stored(false, nil, ""), declared(nil), true},
		{"adopting an API webhook applies the config (false)", stored(true, nil, ""), declared(&no), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeConfigWebhook(tc.cur, tc.cw, slog.New(slog.NewTextHandler(io.Discard, nil)), now)
			requireEqual(t, tc.wantEnabled, got.Enabled)
			requireEqual(t, tc.cw.IsEnabled(), *got.ConfigEnabled)
			requireEqual(t, webhook.ManagedByConfig, got.Managed)
			requireEqual(t, "https://new.example/", got.URL)
			requireEqual(t, "new.*", got.EventTypes[0])
			requireTrue(t, got.UpdatedAt.Equal(now), "updated_at %s", got.UpdatedAt)
			if tc.cur == nil {
				requireTrue(t, got.CreatedAt.Equal(now), "created_at %s", got.CreatedAt)
				requireTrue(t, webhook.ValidateSecret(got.Secret) == nil, "a generated secret must be valid, got %q", got.Secret)
			} else {
				requireTrue(t, got.CreatedAt.Equal(created), "created_at changed to %s", got.CreatedAt)
				requireEqual(t, "whsec_old", got.Secret) // kept: the config sets none
				requireTrue(t, tc.cur.URL == "https://old.example/", "the current value was modified")
			}
		})
	}
}

// TestGateway_Run_configWebhooks restarts a gateway with edited configs and
// checks what the API shows after each start.
func TestGateway_Run_configWebhooks(t *testing.T) {
	s := newSite(t)
	type want struct {
		url     string
		enabled bool
		managed string
	}
	steps := []struct {
		name     string
		webhooks string                                                // the config's webhooks section
		want     map[string]want                                       // by id, after start
		then     func(t *testing.T, r *running, ids map[string]string) // API calls after the checks
	}{
		{
			name: "declared webhooks are created and managed",
			webhooks: `
webhooks:
  - id: wh_a
    url: https://a.example/v1
    event_types: ["order.*"]
  - id: wh_b
    url: https://b.example/
    event_types: [">"]
    secret: ` + testSecret + `
    enabled: false
`,
			want: map[string]want{"wh_a": {"https://a.example/v1", true, "config"}, "wh_b": {"https://b.example/", false, "config"}},
			then: func(t *testing.T, r *running, ids map[string]string) {
				// The API may only toggle a managed webhook.
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_a", `{"url":"https://elsewhere.example/"}`, http.StatusConflict, nil)
				r.mustDo(t, http.MethodDelete, "/v1/webhooks/wh_a", "", http.StatusConflict, nil)
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_a", `{"enabled":false}`, http.StatusOK, nil)
				var c webhookView
				r.mustDo(t, http.MethodPost, "/v1/webhooks", `{"url":"https://c.example/","event_types":["x"]}`, http.StatusCreated, &c)
				ids["c"] = c.ID
			},
		},
		{
			name:     "an unchanged config keeps the API's choice",
			webhooks: "", // filled in below: same as the first step
			want:     map[string]want{"wh_a": {"https://a.example/v1", false, "config"}, "wh_b": {"https://b.example/", false, "config"}},
		},
		{
			name: "a url change applies; enabled applies only where the config changed it",
			webhooks: `
webhooks:
  - id: wh_a
    url: https://a.example/v2
    event_types: ["order.*"]
    enabled: true
  - id: wh_b
    url: https://b.example/
    event_types: [">"]
    secret: ` + testSecret + `
    enabled: true
`,
			// wh_a: unset and true are the same value, so the API's
			// disable stands. wh_b: the file flipped false -> true.
			want: map[string]want{"wh_a": {"https://a.example/v2", false, "config"}, "wh_b": {"https://b.example/", true, "config"}},
			then: func(t *testing.T, r *running, _ map[string]string) {
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_a", `{"enabled":true}`, http.StatusOK, nil)
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_b", `{"enabled":false}`, http.StatusOK, nil)
			},
		},
		{
			name: "a config flip wins over the API, an unchanged value does not",
			webhooks: `
webhooks:
  - id: wh_a
    url: https://a.example/v2
    event_types: ["order.*"]
    enabled: false
  - id: wh_b
    url: https://b.example/
    event_types: [">"]
    secret: ` + testSecret + `
    enabled: true
`,
			want: map[string]want{"wh_a": {"https://a.example/v2", false, "config"}, "wh_b": {"https://b.example/", false, "config"}},
		},
		{
			name: "a webhook removed from the config is kept, unmanaged",
			webhooks: `
webhooks:
  - id: wh_a
    url: https://a.example/v2
    event_types: ["order.*"]
    enabled: false
`,
			want: map[string]want{"wh_a": {"https://a.example/v2", false, "config"}, "wh_b": {"https://b.example/", false, ""}},
			then: func(t *testing.T, r *running, _ map[string]string) {
				// Now the API owns it entirely.
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_b", `{"url":"https://b2.example/"}`, http.StatusOK, nil)
				r.mustDo(t, http.MethodDelete, "/v1/webhooks/wh_b", "", http.StatusNoContent, nil)
			},
		},
		{
			name: "and may be declared again",
			webhooks: `
webhooks:
  - id: wh_a
    url: https://a.example/v2
    event_types: ["order.*"]
    enabled: false
  - id: wh_b
    url: https://b.example/v3
    event_types: [">"]
    secret: ` + testSecret + `
`,
			want: map[string]want{"wh_a": {"https://a.example/v2", false, "config"}, "wh_b": {"https://b.example/v3", true, "config"}},
		},
	}
	steps[1].webhooks = steps[0].webhooks

	ids := map[string]string{}
	var hintA string
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			r := s.start(s.config(step.webhooks))
			defer func() { requireNoError(t, r.stop(t)) }()
			for id, w := range step.want {
				got := r.webhook(t, id)
				requireEqual(t, w.url, got.URL)
				requireEqual(t, w.enabled, got.Enabled)
				requireEqual(t, w.managed, got.ManagedBy)
			}
			// The secret generated for wh_a on the first start is kept.
			hint := r.webhook(t, "wh_a").SecretHint
			if hintA == "" {
				hintA = hint
			}
			requireEqual(t, hintA, hint)
			// The API's own webhook is never touched by the config.
			if c := ids["c"]; c != "" {
				got := r.webhook(t, c)
				requireEqual(t, "https://c.example/", got.URL)
				requireEqual(t, "", got.ManagedBy)
				requireTrue(t, got.Enabled, "the API webhook was disabled")
			}
			if step.then != nil {
				step.then(t, r, ids)
			}
		})
		if t.Failed() {
			return
		}
	}
}

// TestApplyConfigWebhooks_manyPages releases more managed webhooks than one
// listing page holds.
func TestApplyConfigWebhooks_manyPages(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(store.Options{Path: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	requireNoError(t, err)
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var declared []config.Webhook
	for i := range 1203 {
		declared = append(declared, config.Webhook{ID: fmt.Sprintf("wh_%04d", i), URL: "https://x.example/", EventTypes: []string{">"}, Secret: testSecret})
	}
	requireNoError(t, applyConfigWebhooks(ctx, st, declared, logger, time.Now))
	requireNoError(t, applyConfigWebhooks(ctx, st, declared[:1], logger, time.Now))
	managed, total := 0, 0
	before := ""
	for {
		page, more, err := st.Webhooks(ctx, before, 100)
		requireNoError(t, err)
		for _, w := range page {
			total++
			if w.Managed != "" {
				managed++
				requireEqual(t, "wh_0000", w.ID)
			}
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	requireEqual(t, 1203, total)
	requireEqual(t, 1, managed)
}
