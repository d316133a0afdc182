package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/require"
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
			got := mergeConfigWebhook(tc.cur, tc.cw, time.Hour, slog.New(slog.DiscardHandler), now)
			require.Equal(t, tc.wantEnabled, got.Enabled)
			require.Equal(t, tc.cw.IsEnabled(), *got.ConfigEnabled)
			require.Equal(t, webhook.ManagedByConfig, got.Managed)
			require.Equal(t, "https://new.example/", got.URL)
			require.Equal(t, "new.*", got.EventTypes[0])
			require.True(t, got.UpdatedAt.Equal(now), "updated_at %s", got.UpdatedAt)
			if tc.cur == nil {
				require.True(t, got.CreatedAt.Equal(now), "created_at %s", got.CreatedAt)
				require.True(t, webhook.ValidateSecret(got.Secret) == nil, "a generated secret must be valid, got %q", got.Secret)
			} else {
				require.True(t, got.CreatedAt.Equal(created), "created_at changed to %s", got.CreatedAt)
				require.Equal(t, "whsec_old", got.Secret) // kept: the config sets none
				require.True(t, tc.cur.URL == "https://old.example/", "the current value was modified")
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
	// The steps edit two declared webhooks: wh_a takes order events and
	// gets a generated secret, wh_b takes everything and has a fixed one.
	// enabled is "true", "false" or "" (not set).
	hookA := func(url, enabled string) string { return declare("wh_a", url, `["order.*"]`, "", enabled) }
	hookB := func(url, enabled string) string { return declare("wh_b", url, `[">"]`, testSecret, enabled) }
	const (
		urlA1 = "https://a.example/v1"
		urlA2 = "https://a.example/v2"
		urlB  = "https://b.example/"
	)
	first := webhooksSection(hookA(urlA1, ""), hookB(urlB, "false"))
	steps := []struct {
		name     string
		webhooks string                                                // the config's webhooks section
		want     map[string]want                                       // by id, after start
		then     func(t *testing.T, r *running, ids map[string]string) // API calls after the checks
	}{
		{
			name:     "declared webhooks are created and managed",
			webhooks: first,
			want:     map[string]want{"wh_a": {urlA1, true, "config"}, "wh_b": {urlB, false, "config"}},
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
			webhooks: first,
			want:     map[string]want{"wh_a": {urlA1, false, "config"}, "wh_b": {urlB, false, "config"}},
		},
		{
			name:     "a url change applies; enabled applies only where the config changed it",
			webhooks: webhooksSection(hookA(urlA2, "true"), hookB(urlB, "true")),
			// wh_a: unset and true are the same value, so the API's
			// disable stands. wh_b: the file flipped false -> true.
			want: map[string]want{"wh_a": {urlA2, false, "config"}, "wh_b": {urlB, true, "config"}},
			then: func(t *testing.T, r *running, _ map[string]string) {
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_a", `{"enabled":true}`, http.StatusOK, nil)
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_b", `{"enabled":false}`, http.StatusOK, nil)
			},
		},
		{
			name:     "a config flip wins over the API, an unchanged value does not",
			webhooks: webhooksSection(hookA(urlA2, "false"), hookB(urlB, "true")),
			want:     map[string]want{"wh_a": {urlA2, false, "config"}, "wh_b": {urlB, false, "config"}},
		},
		{
			name:     "a webhook removed from the config is kept, unmanaged",
			webhooks: webhooksSection(hookA(urlA2, "false")),
			want:     map[string]want{"wh_a": {urlA2, false, "config"}, "wh_b": {urlB, false, ""}},
			then: func(t *testing.T, r *running, _ map[string]string) {
				// Now the API owns it entirely.
				r.mustDo(t, http.MethodPatch, "/v1/webhooks/wh_b", `{"url":"https://b2.example/"}`, http.StatusOK, nil)
				r.mustDo(t, http.MethodDelete, "/v1/webhooks/wh_b", "", http.StatusNoContent, nil)
			},
		},
		{
			name:     "and may be declared again",
			webhooks: webhooksSection(hookA(urlA2, "false"), hookB("https://b.example/v3", "")),
			want:     map[string]want{"wh_a": {urlA2, false, "config"}, "wh_b": {"https://b.example/v3", true, "config"}},
		},
	}

	ids := map[string]string{}
	var hintA string
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			r := s.start(s.config(step.webhooks))
			defer func() { require.NoError(t, r.stop(t)) }()
			for id, w := range step.want {
				got := r.webhook(t, id)
				require.Equal(t, w.url, got.URL)
				require.Equal(t, w.enabled, got.Enabled)
				require.Equal(t, w.managed, got.ManagedBy)
			}
			// The secret generated for wh_a on the first start is kept.
			hint := r.webhook(t, "wh_a").SecretHint
			if hintA == "" {
				hintA = hint
			}
			require.Equal(t, hintA, hint)
			// The API's own webhook is never touched by the config.
			if c := ids["c"]; c != "" {
				got := r.webhook(t, c)
				require.Equal(t, "https://c.example/", got.URL)
				require.Equal(t, "", got.ManagedBy)
				require.True(t, got.Enabled, "the API webhook was disabled")
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

// webhooksSection returns a config's webhooks section holding hooks, each
// rendered by declare.
func webhooksSection(hooks ...string) string {
	return "webhooks:\n" + strings.Join(hooks, "")
}

// declare renders one webhook of a config's webhooks list; an empty secret
// or enabled is left out.
func declare(id, url, eventTypes, secret, enabled string) string {
	y := "  - id: " + id + "\n    url: " + url + "\n    event_types: " + eventTypes + "\n"
	if secret != "" {
		y += "    secret: " + secret + "\n"
	}
	if enabled != "" {
		y += "    enabled: " + enabled + "\n"
	}
	return y
}

// TestApplyConfigWebhooks_manyPages releases more managed webhooks than one
// listing page holds.
func TestApplyConfigWebhooks_manyPages(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	st, err := store.Open(store.Options{Path: t.TempDir(), Logger: logger})
	require.NoError(t, err)
	defer st.Close()
	var declared []config.Webhook
	for i := range 1203 {
		declared = append(declared, config.Webhook{ID: fmt.Sprintf("wh_%04d", i), URL: "https://x.example/", EventTypes: []string{">"}, Secret: testSecret})
	}
	require.NoError(t, applyConfigWebhooks(ctx, st, declared, time.Hour, logger, time.Now))
	require.NoError(t, applyConfigWebhooks(ctx, st, declared[:1], time.Hour, logger, time.Now))
	managed, total := 0, 0
	before := ""
	for {
		page, more, err := st.Webhooks(ctx, before, 100)
		require.NoError(t, err)
		for _, w := range page {
			total++
			if w.Managed != "" {
				managed++
				require.Equal(t, "wh_0000", w.ID)
			}
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	require.Equal(t, 1203, total)
	require.Equal(t, 1, managed)
}
