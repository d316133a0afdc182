package httpapi_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// apiErrorMessage returns the message of an error envelope.
func apiErrorMessage(tb testing.TB, r response) string {
	tb.Helper()
	var env struct {
		Error struct{ Message string }
	}
	require.NoError(tb, json.Unmarshal(r.body, &env))
	return env.Error.Message
}

// TestAPI_unknownQueryParameter sends every route a query parameter it does
// not take: each answers 400 invalid_parameter naming it, and lists what
// the route does accept. A parameter typo must never pass for a filter
// that applied (GET /v1/events?sourc=/shop listed every event).
func TestAPI_unknownQueryParameter(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlugins(&fakePlugins{}, 0))
	h.publish(`{"type":"a.b","data":1}`)
	tests := []struct {
		method, path string
		accepts      string // what the message must list; "" for none
	}{
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"POST", "/v1/events", ""},
		{"POST", "/v1/events/batch", ""},
		{"GET", "/v1/events", "type, since, until, limit, cursor"},
		{"GET", "/v1/events/evt_x", ""},
		{"POST", "/v1/webhooks", ""},
		{"GET", "/v1/webhooks", "limit, cursor"},
		{"GET", "/v1/webhooks/wh_x", ""},
		{"PATCH", "/v1/webhooks/wh_x", ""},
		{"DELETE", "/v1/webhooks/wh_x", ""},
		{"GET", "/v1/webhooks/wh_x/secret", ""},
		{"POST", "/v1/webhooks/wh_x/secret/rotate", ""},
		{"POST", "/v1/webhooks/wh_x/replay", ""},
		{"GET", "/v1/events/evt_x/deliveries", "webhook_id, status, limit, cursor"},
		{"GET", "/v1/deliveries", "webhook_id, event_id, status, limit, cursor"},
		{"GET", "/v1/deliveries/dlv_x", ""},
		{"POST", "/v1/deliveries/dlv_x/retry", ""},
		{"GET", "/v1/plugins", ""},
		{"GET", "/v1/plugins/p", ""},
		{"PUT", "/v1/plugins/p", "config.<key>"},
		{"DELETE", "/v1/plugins/p", ""},
		{"POST", "/v1/plugins/p/invoke", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path+"?sourc=/shop", "", "Content-Type", "application/json")
			requireAPIError(t, r, http.StatusBadRequest, "invalid_parameter", "sourc")
			msg := apiErrorMessage(t, r)
			require.Contains(t, msg, `"sourc"`)
			if tc.accepts == "" {
				require.Contains(t, msg, "takes no query parameters")
			} else {
				require.Contains(t, msg, tc.accepts)
			}
		})
	}
	// Nothing was stored or listed on the way.
	require.Equal(t, 1, len(h.allEvents("")))
}

// TestAPI_queryParameterTwice refuses a single-valued parameter given twice
// (which value would win is a guess), and a malformed query; a parameter
// that may repeat (event_types of a plugin upload) is taken.
func TestAPI_queryParameterTwice(t *testing.T) {
	t.Parallel()
	f := &fakePlugins{}
	h := newHarness(t, withPlugins(f, 0))
	for _, path := range []string{
		"/v1/events?limit=1&limit=2",
		"/v1/events?type=a.b&type=c.d",
		"/v1/webhooks?cursor=x&cursor=y",
		"/v1/deliveries?status=dead&status=failed",
	} {
		_, query, _ := strings.Cut(path, "?")
		name, _, _ := strings.Cut(query, "=")
		requireAPIError(t, h.get(path), http.StatusBadRequest, "invalid_parameter", name)
	}
	requireAPIError(t, h.get("/v1/events?type=a.b;limit=2"), http.StatusBadRequest, "invalid_parameter", "")

	put := func(query string) response {
		return h.do(http.MethodPut, "/v1/plugins/p?"+query, "m", "Content-Type", "application/wasm")
	}
	requireAPIError(t, put("kind=filter&kind=transform"), http.StatusBadRequest, "invalid_parameter", "kind")
	requireAPIError(t, put("kind=filter&config.max=1&config.max=2"), http.StatusBadRequest, "invalid_parameter", "config.max")
	requireAPIError(t, put("kind=filter&limits.memory=16"), http.StatusBadRequest, "invalid_parameter", "limits.memory")
	r := put("kind=filter&event_types=a.b&event_types=c.>,d.e&config.max=1&config.min=0")
	requireStatus(t, r, http.StatusOK)
	require.Equal(t, "a.b,c.>,d.e", strings.Join(f.settings.EventTypes, ","))
	require.Equal(t, "1", f.settings.Config["max"])
	require.Equal(t, "0", f.settings.Config["min"])

	// The multipart form takes its settings from its settings part only.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("module", "m.wasm")
	require.NoError(t, err)
	_, err = part.Write([]byte("m"))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	r = h.do(http.MethodPut, "/v1/plugins/p?kind=filter", body.String(), "Content-Type", mw.FormDataContentType())
	requireAPIError(t, r, http.StatusBadRequest, "invalid_parameter", "kind")
}
