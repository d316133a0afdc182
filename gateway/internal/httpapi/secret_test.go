package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// secretJSON is the answer of GET /v1/webhooks/{id}/secret.
type secretJSON struct {
	Key string `json:"key"`
}

// TestAPI_getWebhookSecret reads the key a receiver verifies with, as
// Svix's "get endpoint secret" does: the whsec_ secret of a v1 webhook, the
// whpk_ public key of a v1a one (never its whsk_ private key), for API and
// config webhooks alike, and the new key after a rotation. It needs the
// admin scope.
func TestAPI_getWebhookSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	secretOf := func(id string) string {
		t.Helper()
		r := h.get("/v1/webhooks/" + id + "/secret")
		requireStatus(t, r, http.StatusOK)
		require.False(t, strings.Contains(string(r.body), "whsk_"), "the answer shows a private key: %s", r.body)
		return decodeStrict[secretJSON](t, r).Key
	}

	v1 := h.createWebhook(`{"url":"https://example.com/h","event_types":[">"]}`)
	require.Equal(t, v1.Secret, secretOf(v1.ID))

	signingKey := webhook.NewAsymmetricSecret()
	r := h.postJSON("/v1/webhooks", `{"url":"https://example.com/h","event_types":[">"],"secret":"`+signingKey+`"}`)
	requireStatus(t, r, http.StatusCreated)
	require.Equal(t, webhook.PublicKey(signingKey), secretOf(strings.TrimPrefix(r.header.Get("Location"), "/v1/webhooks/")))

	r = h.do(http.MethodPost, "/v1/webhooks/"+v1.ID+"/secret/rotate", "")
	requireStatus(t, r, http.StatusOK)
	rotated := decodeStrict[struct {
		webhookJSON
		PreviousSecretExpiresAt string `json:"previous_secret_expires_at"`
	}](t, r)
	require.True(t, rotated.Secret != v1.Secret, "rotate kept the secret")
	require.Equal(t, rotated.Secret, secretOf(v1.ID))

	// A config webhook whose secret the gateway generated.
	now := time.Now().UTC()
	generated := webhook.NewSecret()
	_, err := h.st.MutateWebhook(context.Background(), "billing", func(*webhook.Webhook) (*webhook.Webhook, error) {
		return &webhook.Webhook{
			ID: "billing", URL: "https://billing.example.com/in", EventTypes: []string{"invoice.>"},
			Enabled: true, Secret: generated, Managed: webhook.ManagedByConfig, CreatedAt: now, UpdatedAt: now,
		}, nil
	})
	require.NoError(t, err)
	require.Equal(t, generated, secretOf("billing"))

	requireAPIError(t, h.get("/v1/webhooks/wh_nope/secret"), http.StatusNotFound, "not_found", "id")
	requireAPIError(t, h.get("/v1/webhooks/billing/secret", "Authorization", "Bearer "+keyPublish), http.StatusForbidden, "forbidden", "")
	requireAPIError(t, h.get("/v1/webhooks/billing/secret", "Authorization", ""), http.StatusUnauthorized, "unauthorized", "")
	requireStatus(t, h.get("/v1/webhooks/billing/secret", "Authorization", "Bearer "+keyAdmin), http.StatusOK)
}
