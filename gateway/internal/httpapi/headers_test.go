package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestAPI_webhookHeadersMasked: custom header values are credentials as
// often as not (Authorization: Bearer ...), so no answer shows them; each
// shows a hint, like secret_hint. Sending the masked values back in a PATCH
// keeps the stored ones, and a masked value the webhook does not have is
// refused rather than stored.
func TestAPI_webhookHeadersMasked(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-token"
	h := newHarness(t)
	noToken := func(what string, r response) {
		t.Helper()
		require.False(t, strings.Contains(string(r.body), token), "%s shows the header value: %s", what, r.body)
	}

	r := h.postJSON("/v1/webhooks", `{"url":"https://example.com/h","event_types":[">"],
		"headers":{"Authorization":"Bearer `+token+`","X-Team":"ops"}}`)
	requireStatus(t, r, http.StatusCreated)
	noToken("create", r)
	wh := decodeStrict[webhookJSON](t, r)
	require.Equal(t, "…oken", wh.Headers["Authorization"])
	require.Equal(t, "…", wh.Headers["X-Team"]) // short values are masked whole

	path := "/v1/webhooks/" + wh.ID
	r = h.get(path)
	requireStatus(t, r, http.StatusOK)
	noToken("get", r)
	r = h.get("/v1/webhooks")
	requireStatus(t, r, http.StatusOK)
	noToken("list", r)
	r = h.do(http.MethodPatch, path, `{"description":"d"}`, "Content-Type", "application/json")
	requireStatus(t, r, http.StatusOK)
	noToken("patch", r)
	r = h.do(http.MethodPost, path+"/secret/rotate", "")
	requireStatus(t, r, http.StatusOK)
	noToken("rotate", r)

	// Read, change one header, write back: the masked ones stay as stored.
	r = h.do(http.MethodPatch, path, `{"headers":{"Authorization":"…oken","X-Team":"…","X-New":"1"}}`, "Content-Type", "application/json")
	requireStatus(t, r, http.StatusOK)
	noToken("patch with headers", r)
	stored, err := h.st.Webhook(context.Background(), wh.ID)
	require.NoError(t, err)
	require.Equal(t, "Bearer "+token, stored.Headers["Authorization"])
	require.Equal(t, "ops", stored.Headers["X-Team"])
	require.Equal(t, "1", stored.Headers["X-New"])

	// A masked value that matches nothing stored is a mistake, not a value.
	requireAPIError(t, h.do(http.MethodPatch, path, `{"headers":{"X-Other":"…oken"}}`, "Content-Type", "application/json"),
		http.StatusUnprocessableEntity, "validation_failed", "headers.X-Other")
	requireAPIError(t, h.postJSON("/v1/webhooks", `{"url":"https://example.com/h","event_types":[">"],"headers":{"Authorization":"…oken"}}`),
		http.StatusUnprocessableEntity, "validation_failed", "headers.Authorization")
	stored, err = h.st.Webhook(context.Background(), wh.ID)
	require.NoError(t, err)
	require.Equal(t, "Bearer "+token, stored.Headers["Authorization"])
}
