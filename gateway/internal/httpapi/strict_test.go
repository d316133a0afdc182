package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestPublish_strictJSON is the regression test for issue 10 findings 3 and
// 7: a body that parsers read differently (duplicate keys, invalid UTF-8,
// deep nesting) is refused with 400 before anything is stored or shown to
// a plugin, in every request shape that carries event JSON.
func TestPublish_strictJSON(t *testing.T) {
	h := newHarness(t)
	deep := strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65)
	ce := func(extra string) string {
		return `{"specversion":"1.0","id":"1","source":"/s","type":"a.b"` + extra + `}`
	}
	tests := []struct {
		name, path, ct, body string
		hdr                  []string
		code, msg            string
	}{
		{name: "top-level type twice", body: `{"type":"a.b","type":"c.d","data":1}`,
			code: "duplicate_key", msg: `duplicate key "type" at $`},
		{name: "amount twice in data", body: `{"type":"a.b","data":{"amount":1,"amount":999999}}`,
			code: "duplicate_key", msg: `duplicate key "amount" at $.data`},
		{name: "amount twice, other case", body: `{"type":"a.b","data":{"amount":1,"Amount":999999}}`,
			code: "duplicate_key", msg: `duplicate key "Amount" at $.data`},
		{name: "escaped duplicate, deep", body: `{"type":"a.b","data":{"items":[{"ip":"1.2.3.4","\u0069p":"5.6.7.8"}]}}`,
			code: "duplicate_key", msg: `duplicate key "ip" at $.data.items[0]`},
		{name: "invalid UTF-8 in a string", body: "{\"type\":\"a.b\",\"data\":{\"name\":\"\xff\"}}",
			code: "invalid_utf8", msg: `invalid UTF-8 byte 0xff in a string at $.data.name`},
		{name: "lone surrogate", body: `{"type":"a.b","data":"\ud800"}`,
			code: "invalid_utf8", msg: `lone UTF-16 surrogate \ud800 in a string at $.data`},
		{name: "65 levels", body: `{"type":"a.b","data":` + deep + `}`,
			code: "too_deep", msg: `ingest.max_json_depth`},
		{name: "batch item", path: "/v1/events/batch", body: `{"events":[{"type":"a.b","data":1},{"type":"a.b","data":{"card_id":"x","card_id":"y"}}]}`,
			code: "duplicate_key", msg: `duplicate key "card_id" at $.events[1].data`},
		{name: "CE structured", ct: "application/cloudevents+json", body: ce(`,"data":{"a":1,"a":2}`),
			code: "duplicate_key", msg: `duplicate key "a" at $.data`},
		{name: "CE structured, attribute twice", ct: "application/cloudevents+json", body: ce(`,"type":"c.d"`),
			code: "duplicate_key", msg: `duplicate key "type" at $`},
		{name: "CE data_base64", ct: "application/cloudevents+json", body: ce(`,"data_base64":"eyJhIjoxLCJhIjoyfQ=="`), // {"a":1,"a":2}
			code: "duplicate_key", msg: `data_base64: duplicate key "a" at $`},
		{name: "CE batch", path: "/v1/events/batch", ct: "application/cloudevents-batch+json", body: `[` + ce(`,"data":"\udc00"`) + `]`,
			code: "invalid_utf8", msg: `at $[0].data`},
		{name: "CE binary", body: `{"amount":1,"amount":2}`,
			hdr:  []string{"Ce-Specversion", "1.0", "Ce-Id", "1", "Ce-Source", "/s", "Ce-Type", "a.b"},
			code: "duplicate_key", msg: `duplicate key "amount" at $`},
		{name: "webhook", path: "/v1/webhooks", body: `{"url":"https://example.com/a","url":"https://example.com/b"}`,
			code: "duplicate_key", msg: `duplicate key "url" at $`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path, ct := tc.path, tc.ct
			if path == "" {
				path = "/v1/events"
			}
			if ct == "" {
				ct = "application/json"
			}
			r := h.do(http.MethodPost, path, tc.body, append([]string{"Content-Type", ct}, tc.hdr...)...)
			requireAPIError(t, r, http.StatusBadRequest, tc.code, "")
			requireMessage(t, r, tc.msg)
		})
	}
	require.Equal(t, 0, len(h.allEvents("")))
}

func withMaxJSONDepth(n int) harnessOption {
	return func(c *harnessConfig) { c.maxJSONDepth = n }
}

// TestPublish_maxJSONDepth checks that ingest.max_json_depth is the limit,
// for events and for admin bodies, and that a body at the limit passes.
func TestPublish_maxJSONDepth(t *testing.T) {
	h := newHarness(t, withMaxJSONDepth(3))
	h.publish(`{"type":"a.b","data":{"x":[1]}}`) // 3 levels
	r := h.postJSON("/v1/events", `{"type":"a.b","data":{"x":[[1]]}}`)
	requireAPIError(t, r, http.StatusBadRequest, "too_deep", "")
	requireMessage(t, r, `nesting deeper than 3 levels at $.data.x[0]; the limit is 3 (ingest.max_json_depth)`)
	r = h.postJSON("/v1/webhooks", `{"url":"https://example.com/a","event_types":[">"],"headers":{"X":{"y":[1]}}}`)
	requireAPIError(t, r, http.StatusBadRequest, "too_deep", "")
	requireMessage(t, r, `at $.headers.X.y; the limit is 3`)
}

// requireMessage checks that the error message of r contains want.
func requireMessage(tb testing.TB, r response, want string) {
	tb.Helper()
	var env struct {
		Error struct{ Message string } `json:"error"`
	}
	require.NoError(tb, json.Unmarshal(r.body, &env))
	require.True(tb, strings.Contains(env.Error.Message, want), "want %q in the message %q", want, env.Error.Message)
}
