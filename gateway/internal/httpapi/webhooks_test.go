package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

const hookBody = `{"url":"https://example.com/hooks","event_types":["link.*","order.>"],"description":"analytics","headers":{"X-Team":"growth"}}`

// createWebhook posts body and requires a 201.
func (h *harness) createWebhook(body string) webhookJSON {
	h.tb.Helper()
	r := h.postJSON("/v1/webhooks", body)
	requireStatus(h.tb, r, http.StatusCreated)
	w := decodeStrict[webhookJSON](h.tb, r)
	require.Equal(h.tb, "/v1/webhooks/"+w.ID, r.header.Get("Location"))
	return w
}

func TestAPI_createWebhook(t *testing.T) {
	h := newHarness(t)
	w := h.createWebhook(hookBody)
	require.True(t, strings.HasPrefix(w.ID, "wh_"), "id %q lacks the wh_ prefix", w.ID)
	require.Equal(t, "https://example.com/hooks", w.URL)
	require.Equal(t, "link.*,order.>", strings.Join(w.EventTypes, ","))
	require.Equal(t, "analytics", w.Description)
	require.Equal(t, "…", w.Headers["X-Team"]) // values are masked (headers_test.go)
	require.Equal(t, 1, len(w.Headers))
	require.Equal(t, true, w.Enabled)
	require.Equal(t, "", w.ManagedBy)
	require.True(t, !w.CreatedAt.IsZero() && w.CreatedAt.Equal(w.UpdatedAt), "created_at %v, updated_at %v", w.CreatedAt, w.UpdatedAt)

	// The generated secret is shown once, in full.
	require.True(t, strings.HasPrefix(w.Secret, "whsec_"), "secret %q lacks the whsec_ prefix", w.Secret)
	key, err := webhook.DecodeSecret(w.Secret)
	require.NoError(t, err)
	require.Equal(t, 32, len(key))
	require.Equal(t, "whsec_…"+w.Secret[len(w.Secret)-4:], w.SecretHint)

	// Everywhere else only the hint.
	r := h.get("/v1/webhooks/" + w.ID)
	requireStatus(t, r, http.StatusOK)
	require.False(t, strings.Contains(string(r.body), `"secret":`), "GET shows the secret: %s", r.body)
	got := decodeStrict[webhookJSON](t, r)
	require.Equal(t, w.SecretHint, got.SecretHint)
	secret := w.Secret
	w.Secret = ""
	require.Equal(t, fmt.Sprint(w), fmt.Sprint(got))

	r = h.get("/v1/webhooks")
	requireStatus(t, r, http.StatusOK)
	require.False(t, strings.Contains(string(r.body), secret[len("whsec_"):]), "the list shows the secret: %s", r.body)
	p := decodeStrict[page[webhookJSON]](t, r)
	require.Equal(t, 1, len(p.Data))
	require.Equal(t, fmt.Sprint(w), fmt.Sprint(p.Data[0]))
}

func TestAPI_createWebhookOptions(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	h := newHarness(t)

	w := h.createWebhook(`{"url":"http://10.0.0.1:8080/in?x=1","event_types":[">"],"secret":"` + secret + `","enabled":false}`)
	require.Equal(t, secret, w.Secret)
	require.Equal(t, "whsec_…"+secret[len(secret)-4:], w.SecretHint)
	require.Equal(t, false, w.Enabled)
	require.Equal(t, "http://10.0.0.1:8080/in?x=1", w.URL)
	require.Equal(t, false, h.webhook(w.ID).Enabled)

	// Unpadded base64 and 24- and 64-byte keys are accepted too.
	for _, s := range []string{
		"whsec_" + base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef01234567")),
		"whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 64))),
	} {
		require.Equal(t, s, h.createWebhook(`{"url":"https://example.com","event_types":["a.b"],"secret":"`+s+`"}`).Secret)
	}
	// No headers is {} rather than null.
	r := h.get("/v1/webhooks/" + w.ID)
	require.True(t, strings.Contains(string(r.body), `"headers":{}`), "want empty headers object: %s", r.body)
}

// webhook fetches one webhook and requires a 200.
func (h *harness) webhook(id string) webhookJSON {
	h.tb.Helper()
	r := h.get("/v1/webhooks/" + url.PathEscape(id))
	requireStatus(h.tb, r, http.StatusOK)
	return decodeStrict[webhookJSON](h.tb, r)
}

func TestAPI_createWebhookInvalid(t *testing.T) {
	with := func(field, value string) string {
		return `{"url":"https://example.com/h","event_types":["a.b"],"` + field + `":` + value + `}`
	}
	header := func(name, value string) string {
		return with("headers", fmt.Sprintf(`{%q:%q}`, name, value))
	}
	hookURL := func(u string) string { return fmt.Sprintf(`{"url":%q,"event_types":["a.b"]}`, u) }
	types := func(ts string) string { return `{"url":"https://example.com/h","event_types":` + ts + `}` }
	// status 0 means 422 validation_failed.
	tests := []refusal{
		{name: "relative url", body: hookURL("/hooks"), field: "url"},
		{name: "host-relative url", body: hookURL("//example.com/hooks"), field: "url"},
		{name: "ftp scheme", body: hookURL("ftp://example.com/hooks"), field: "url"},
		{name: "mailto", body: hookURL("mailto:ops@example.com"), field: "url"},
		{name: "user and password", body: hookURL("https://user:pass@example.com/hooks"), field: "url"},
		{name: "user only", body: hookURL("https://user@example.com/hooks"), field: "url"},
		{name: "url over 2048", body: hookURL("https://example.com/" + strings.Repeat("a", 2048)), field: "url"},
		{name: "no host", body: hookURL("https:///hooks"), field: "url"},
		{name: "empty url", body: hookURL(""), field: "url"},
		{name: "url not a string", body: `{"url":1,"event_types":["a.b"]}`, field: "url"},
		{name: "missing url", body: `{"event_types":["a.b"]}`, field: "url"},
		{name: "missing event_types", body: `{"url":"https://example.com"}`, field: "event_types"},
		{name: "empty event_types", body: types(`[]`), field: "event_types"},
		{name: "> in the middle", body: types(`["link.>.x"]`), field: "event_types[0]"},
		{name: "empty segment", body: types(`["a.b","a..b"]`), field: "event_types[1]"},
		{name: "partial wildcard", body: types(`["link.cl*"]`), field: "event_types[0]"},
		{name: "empty pattern", body: types(`[""]`), field: "event_types[0]"},
		{name: "header Webhook-Id", body: header("Webhook-Id", "x"), field: "headers.Webhook-Id"},
		{name: "header webhook-signature", body: header("webhook-signature", "x"), field: "headers.webhook-signature"},
		{name: "header Content-Type", body: header("Content-Type", "text/plain"), field: "headers.Content-Type"},
		{name: "header Host", body: header("Host", "evil.example"), field: "headers.Host"},
		{name: "header User-Agent", body: header("user-agent", "x"), field: "headers.user-agent"},
		{name: "header Expect", body: header("Expect", "100-continue"), field: "headers.Expect"},
		{name: "header expect", body: header("expect", "100-continue"), field: "headers.expect"},
		{name: "header TE", body: header("TE", "trailers"), field: "headers.TE"},
		{name: "header Upgrade", body: header("Upgrade", "h2c"), field: "headers.Upgrade"},
		{name: "header Connection", body: header("Connection", "close"), field: "headers.Connection"},
		{name: "header Keep-Alive", body: header("Keep-Alive", "timeout=5"), field: "headers.Keep-Alive"},
		{name: "header Proxy-Connection", body: header("Proxy-Connection", "keep-alive"), field: "headers.Proxy-Connection"},
		{name: "header Proxy-Authenticate", body: header("Proxy-Authenticate", "Basic"), field: "headers.Proxy-Authenticate"},
		{name: "header Proxy-Authorization", body: header("Proxy-Authorization", "Basic eDp5"), field: "headers.Proxy-Authorization"},
		{name: "header Trailer", body: header("Trailer", "X-Sum"), field: "headers.Trailer"},
		{name: "header Transfer-Encoding", body: header("Transfer-Encoding", "chunked"), field: "headers.Transfer-Encoding"},
		{name: "header Content-Length", body: header("Content-Length", "1"), field: "headers.Content-Length"},
		{name: "port 0", body: hookURL("https://example.com:0/hooks"), field: "url"},
		{name: "port 65536", body: hookURL("https://example.com:65536/hooks"), field: "url"},
		{name: "port 99999", body: hookURL("http://example.com:99999/hooks"), field: "url"},
		{name: "port not a number", body: hookURL("http://example.com:https/hooks"), field: "url"},
		{name: "port with a sign", body: hookURL("http://example.com:+80/hooks"), field: "url"},
		{name: "header name with space", body: header("X Team", "x"), field: "headers.X Team"},
		{name: "header name with colon", body: header("X-Team:", "x"), field: "headers.X-Team:"},
		{name: "empty header name", body: header("", "x"), field: "headers."},
		{name: "header value with CRLF", body: header("X-Team", "a\r\nX-Evil: 1"), field: "headers.X-Team"},
		{name: "secret without prefix", body: with("secret", `"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"`), field: "secret"},
		{name: "secret too short", body: with("secret", `"whsec_c2hvcnQ="`), field: "secret"},
		{name: "secret not base64", body: with("secret", `"whsec_!!!!"`), field: "secret"},
		{name: "description too long", body: with("description", `"`+strings.Repeat("d", 1025)+`"`), field: "description"},
		{name: "unknown field", body: with("events", `["a.b"]`), field: "events"},
		{name: "enabled not a bool", body: with("enabled", `"yes"`), field: "enabled"},
		{name: "several problems", body: `{"url":"ftp://x","event_types":["a..b"]}`, field: "url"},

		{name: "invalid JSON", body: `{"url":`, status: 400, code: "invalid_json"},
		{name: "empty body", body: ``, status: 400, code: "invalid_json"},
		{name: "text/plain", hdr: []string{"Content-Type", "text/plain"}, body: hookBody, status: 415, code: "unsupported_media_type"},
		{name: "form", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "url=x", status: 415, code: "unsupported_media_type"},
	}
	for i := range tests {
		if tests[i].status == 0 {
			tests[i].status, tests[i].code = http.StatusUnprocessableEntity, "validation_failed"
		}
	}
	h := newHarness(t)
	h.requireRefusals(t, "/v1/webhooks", tests)
	t.Run("no content type", func(t *testing.T) {
		r := h.do(http.MethodPost, "/v1/webhooks", hookBody)
		requireAPIError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	})
	require.Equal(t, 0, len(decodeStrict[page[webhookJSON]](t, h.get("/v1/webhooks")).Data))
}

// Every problem is listed in details, the first one also in field.
func TestAPI_createWebhookProblemDetails(t *testing.T) {
	h := newHarness(t)
	r := h.postJSON("/v1/webhooks", `{"url":"ftp://x","event_types":["a..b"],"headers":{"Host":"x"}}`)
	requireAPIError(t, r, http.StatusUnprocessableEntity, "validation_failed", "url")
	var env struct {
		Error struct {
			Details []webhook.Problem `json:"details"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &env))
	var fields []string
	for _, p := range env.Error.Details {
		fields = append(fields, p.Field)
		require.True(t, p.Message != "", "problem without a message: %s", r.body)
	}
	require.Equal(t, "url,event_types[0],headers.Host", strings.Join(fields, ","))
}

func TestAPI_webhookLifecycle(t *testing.T) {
	h := newHarness(t)
	w := h.createWebhook(hookBody)
	w.Secret = ""
	path := "/v1/webhooks/" + w.ID
	patch := func(body string) response {
		t.Helper()
		return h.do(http.MethodPatch, path, body, "Content-Type", "application/json")
	}

	// A partial update changes only what it names.
	r := patch(`{"description":"growth team"}`)
	requireStatus(t, r, http.StatusOK)
	got := decodeStrict[webhookJSON](t, r)
	require.Equal(t, "growth team", got.Description)
	require.Equal(t, w.URL, got.URL)
	require.Equal(t, strings.Join(w.EventTypes, ","), strings.Join(got.EventTypes, ","))
	require.Equal(t, "…", got.Headers["X-Team"])
	require.Equal(t, w.SecretHint, got.SecretHint)
	require.Equal(t, "", got.Secret)
	require.True(t, got.CreatedAt.Equal(w.CreatedAt), "created_at changed")
	require.False(t, got.UpdatedAt.Before(w.UpdatedAt), "updated_at went back")
	require.Equal(t, fmt.Sprint(got), fmt.Sprint(h.webhook(w.ID)))

	r = patch(`{"url":"https://example.org/v2","event_types":[">"],"headers":{}}`)
	requireStatus(t, r, http.StatusOK)
	got = decodeStrict[webhookJSON](t, r)
	require.Equal(t, "https://example.org/v2", got.URL)
	require.Equal(t, ">", strings.Join(got.EventTypes, ","))
	require.Equal(t, 0, len(got.Headers))
	require.Equal(t, "growth team", got.Description)

	// enabled toggles both ways.
	for _, enabled := range []bool{false, true, false} {
		r = patch(fmt.Sprintf(`{"enabled":%t}`, enabled))
		requireStatus(t, r, http.StatusOK)
		require.Equal(t, enabled, decodeStrict[webhookJSON](t, r).Enabled)
		require.Equal(t, enabled, h.webhook(w.ID).Enabled)
	}
	requireStatus(t, patch(`{}`), http.StatusOK)

	// Invalid patches change nothing.
	before := h.webhook(w.ID)
	requireAPIError(t, patch(`{"url":"ftp://example.com"}`), http.StatusUnprocessableEntity, "validation_failed", "url")
	requireAPIError(t, patch(`{"event_types":[]}`), http.StatusUnprocessableEntity, "validation_failed", "event_types")
	requireAPIError(t, patch(`{"headers":{"Webhook-Id":"x"}}`), http.StatusUnprocessableEntity, "validation_failed", "headers.Webhook-Id")
	requireAPIError(t, patch(`{"secret":"`+webhook.NewSecret()+`"}`), http.StatusUnprocessableEntity, "validation_failed", "secret")
	requireAPIError(t, patch(`{"id":"wh_other"}`), http.StatusUnprocessableEntity, "validation_failed", "id")
	requireAPIError(t, patch(`{"enabled":`), http.StatusBadRequest, "invalid_json", "")
	requireAPIError(t, h.do(http.MethodPatch, path, `{"enabled":true}`, "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
	require.Equal(t, fmt.Sprint(before), fmt.Sprint(h.webhook(w.ID)))

	// Unknown ids.
	requireAPIError(t, h.get("/v1/webhooks/wh_nope"), http.StatusNotFound, "not_found", "id")
	requireAPIError(t, h.do(http.MethodPatch, "/v1/webhooks/wh_nope", `{"enabled":true}`, "Content-Type", "application/json"), http.StatusNotFound, "not_found", "id")
	requireAPIError(t, h.do(http.MethodDelete, "/v1/webhooks/wh_nope", ""), http.StatusNotFound, "not_found", "id")

	// Delete, then it is gone.
	r = h.do(http.MethodDelete, path, "")
	requireStatus(t, r, http.StatusNoContent)
	require.Equal(t, 0, len(r.body))
	requireAPIError(t, h.get(path), http.StatusNotFound, "not_found", "id")
	requireAPIError(t, h.do(http.MethodDelete, path, ""), http.StatusNotFound, "not_found", "id")
	requireAPIError(t, patch(`{"enabled":true}`), http.StatusNotFound, "not_found", "id")
	require.Equal(t, 0, len(decodeStrict[page[webhookJSON]](t, h.get("/v1/webhooks")).Data))
}

func TestAPI_listWebhooks(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, h.createWebhook(fmt.Sprintf(`{"url":"https://example.com/%d","event_types":[">"]}`, i)).ID)
	}
	want := newestFirst(ids)

	var got []string
	var sizes []int
	for _, p := range getPages[webhookJSON](t, h, "/v1/webhooks?limit=2", 3) {
		sizes = append(sizes, len(p))
		for _, w := range p {
			got = append(got, w.ID)
			require.Equal(t, "", w.Secret)
		}
	}
	require.Equal(t, "[2 2 1]", fmt.Sprint(sizes))
	requireIDs(t, want, got)

	r := h.get("/v1/webhooks")
	requireStatus(t, r, http.StatusOK)
	p := decodeStrict[page[webhookJSON]](t, r)
	require.Equal(t, 5, len(p.Data))
	require.Equal(t, "", p.NextCursor)

	for _, q := range []string{"cursor=!!!", "limit=0", "limit=1001", "limit=x"} {
		field := strings.SplitN(q, "=", 2)[0]
		requireAPIError(t, h.get("/v1/webhooks?"+q), http.StatusBadRequest, "invalid_parameter", field)
	}
}

// Webhooks declared in the config file can be switched on and off through
// the API, and nothing else.
func TestAPI_managedWebhook(t *testing.T) {
	h := newHarness(t)
	now := time.Now().UTC()
	_, err := h.st.MutateWebhook(context.Background(), "billing", func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		return &webhook.Webhook{
			ID: "billing", URL: "https://billing.example.com/in", EventTypes: []string{"invoice.>"},
			Enabled: true, Secret: webhook.NewSecret(), Managed: webhook.ManagedByConfig,
			CreatedAt: now, UpdatedAt: now,
		}, nil
	})
	require.NoError(t, err)
	path := "/v1/webhooks/billing"
	require.Equal(t, "config", h.webhook("billing").ManagedBy)
	before := h.webhook("billing")

	requireAPIError(t, h.do(http.MethodDelete, path, ""), http.StatusConflict, "managed_by_config", "")
	for _, body := range []string{
		`{"url":"https://evil.example.com"}`,
		`{"event_types":[">"]}`,
		`{"description":"x"}`,
		`{"headers":{"X-A":"b"}}`,
		`{"enabled":false,"url":"https://billing.example.com/in"}`,
	} {
		r := h.do(http.MethodPatch, path, body, "Content-Type", "application/json")
		requireAPIError(t, r, http.StatusConflict, "managed_by_config", "")
	}
	require.Equal(t, fmt.Sprint(before), fmt.Sprint(h.webhook("billing")))

	r := h.do(http.MethodPatch, path, `{"enabled":false}`, "Content-Type", "application/json")
	requireStatus(t, r, http.StatusOK)
	got := decodeStrict[webhookJSON](t, r)
	require.Equal(t, false, got.Enabled)
	require.Equal(t, "config", got.ManagedBy)
	require.Equal(t, before.URL, got.URL)
	require.Equal(t, false, h.webhook("billing").Enabled)
}
