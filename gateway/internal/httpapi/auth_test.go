package httpapi_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// Every route under every kind of key: publish for POST /v1/events*, admin
// for the rest, nothing for the probes.
func TestAPI_authScopes(t *testing.T) {
	const (
		event   = `{"type":"a.b","data":1}`
		batch   = `{"events":[{"type":"a.b","data":1}]}`
		webhook = `{"url":"https://example.com/hook","event_types":[">"]}`
	)
	h := newHarness(t)
	wh := decodeStrict[webhookJSON](t, h.postJSON("/v1/webhooks", webhook))
	ev := h.publish(event)

	type route struct {
		method, path, body string
		ok                 int // status with the right scope
	}
	var (
		publish     = route{"POST", "/v1/events", event, 202}
		publishMany = route{"POST", "/v1/events/batch", batch, 202}
		list        = route{"GET", "/v1/events", "", 200}
		get         = route{"GET", "/v1/events/" + ev.ID, "", 200}
		createHook  = route{"POST", "/v1/webhooks", webhook, 201}
		listHooks   = route{"GET", "/v1/webhooks", "", 200}
		getHook     = route{"GET", "/v1/webhooks/" + wh.ID, "", 200}
		patchHook   = route{"PATCH", "/v1/webhooks/" + wh.ID, `{"enabled":true}`, 200}
		deleteHook  = route{"DELETE", "/v1/webhooks/nope", "", 404} // authorized, then not found
		healthz     = route{"GET", "/healthz", "", 200}
		readyz      = route{"GET", "/readyz", "", 200}
	)
	publishRoutes := []route{publish, publishMany}
	adminRoutes := []route{list, get, createHook, listHooks, getHook, patchHook, deleteHook}
	probes := []route{healthz, readyz}
	all := append(append(append([]route(nil), publishRoutes...), adminRoutes...), probes...)

	tests := []struct {
		name    string
		auth    string // Authorization header; "" sends none
		allowed []route
		status  int // for the others
		code    string
	}{
		{"both scopes", "Bearer " + keyBoth, all, 0, ""},
		{"publish only", "Bearer " + keyPublish, append(publishRoutes, probes...), 403, "forbidden"},
		{"admin only", "Bearer " + keyAdmin, append(adminRoutes, probes...), 403, "forbidden"},
		{"no scopes", "Bearer " + keyNoScope, probes, 403, "forbidden"},
		{"no key", "", probes, 401, "unauthorized"},
		{"wrong key", "Bearer not-a-key", probes, 401, "unauthorized"},
		{"key prefix", "Bearer " + keyBoth[:len(keyBoth)-1], probes, 401, "unauthorized"},
		{"key with suffix", "Bearer " + keyBoth + "x", probes, 401, "unauthorized"},
		{"empty bearer", "Bearer ", probes, 401, "unauthorized"},
		{"lower-case scheme", "bearer " + keyBoth, all, 0, ""}, // RFC 9110 11.1: the scheme is case-insensitive
		{"upper-case scheme", "BEARER " + keyBoth, all, 0, ""},
		{"scheme without a space", "Bearer" + keyBoth, probes, 401, "unauthorized"},
		{"basic auth", "Basic dXNlcjpwYXNz", probes, 401, "unauthorized"},
		{"bare key", keyBoth, probes, 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range all {
				allowed := false
				for _, a := range tc.allowed {
					allowed = allowed || a == rt
				}
				r := h.do(rt.method, rt.path, rt.body, "Authorization", tc.auth, "Content-Type", "application/json")
				if allowed {
					if r.status != rt.ok {
						t.Fatalf("%s %s: want %d, got %d: %s", rt.method, rt.path, rt.ok, r.status, r.body)
					}
					continue
				}
				requireAPIError(t, r, tc.status, tc.code, "")
			}
		})
	}
}

// Refused requests change nothing.
func TestAPI_authRefusedStoresNothing(t *testing.T) {
	h := newHarness(t)
	for _, key := range []string{"", "Bearer nope", "Bearer " + keyAdmin, "Bearer " + keyNoScope} {
		r := h.postJSON("/v1/events", `{"type":"a.b","data":1}`, "Authorization", key)
		require.True(t, r.status == 401 || r.status == 403, "want 401 or 403, got %d", r.status)
		r = h.postJSON("/v1/events/batch", `{"events":[{"type":"a.b","data":1}]}`, "Authorization", key)
		require.True(t, r.status == 401 || r.status == 403, "want 401 or 403, got %d", r.status)
	}
	for _, key := range []string{"", "Bearer nope", "Bearer " + keyPublish, "Bearer " + keyNoScope} {
		r := h.postJSON("/v1/webhooks", `{"url":"https://example.com","event_types":[">"]}`, "Authorization", key)
		require.True(t, r.status == 401 || r.status == 403, "want 401 or 403, got %d", r.status)
	}
	requireIDs(t, nil, h.allEvents(""))
	require.Equal(t, 0, len(decodeStrict[page[webhookJSON]](t, h.get("/v1/webhooks")).Data))
}

// With no keys configured the API is open.
func TestAPI_noKeys(t *testing.T) {
	h := newHarness(t, withKeys())
	rc := h.publish(`{"type":"a.b","data":1}`, "Authorization", "")
	requireStatus(t, h.get("/v1/events/"+rc.ID, "Authorization", ""), http.StatusOK)
	requireStatus(t, h.get("/v1/events", "Authorization", "Bearer anything"), http.StatusOK)
}

func TestAPI_probes(t *testing.T) {
	var ready atomic.Bool
	h := newHarness(t, withReady(ready.Load))

	r := h.get("/healthz", "Authorization", "")
	requireStatus(t, r, http.StatusOK)
	requireJSONEqual(t, `{"status":"ok","version":"test"}`, r.body)

	requireAPIError(t, h.get("/readyz", "Authorization", ""), http.StatusServiceUnavailable, "unavailable", "")
	ready.Store(true)
	r = h.get("/readyz", "Authorization", "")
	requireStatus(t, r, http.StatusOK)
	requireJSONEqual(t, `{"status":"ready"}`, r.body)
}

func TestAPI_unknownRoute(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/", "/v1", "/v2/events", "/v1/event", "/v1/events/", "/v1/events/a/b", "/v1/webhooks/", "/healthz/", "/v1/EVENTS"} {
		t.Run(path, func(t *testing.T) {
			// Unknown routes are 404 even without a key: there is nothing
			// to protect.
			requireAPIError(t, h.get(path, "Authorization", ""), http.StatusNotFound, "not_found", "")
		})
	}
}

func TestAPI_methodNotAllowed(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		allow        string
	}{
		{"PUT", "/v1/events", "GET, OPTIONS, POST"},
		{"DELETE", "/v1/events", "GET, OPTIONS, POST"},
		{"PATCH", "/v1/events/evt_x", "GET, OPTIONS"},
		{"GET", "/v1/events/batch", ""}, // GET /v1/events/:id takes it
		{"PUT", "/v1/events/batch", "GET, OPTIONS, POST"},
		{"PUT", "/v1/webhooks", "GET, OPTIONS, POST"},
		{"POST", "/v1/webhooks/wh_x", "DELETE, GET, OPTIONS, PATCH"},
		{"POST", "/healthz", "GET, OPTIONS"},
		{"DELETE", "/readyz", "GET, OPTIONS"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := h.do(tc.method, tc.path, "", "Authorization", "")
			if tc.allow == "" {
				require.True(t, r.status != http.StatusMethodNotAllowed, "want a routed answer, got 405")
				return
			}
			requireAPIError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "")
			require.Equal(t, tc.allow, r.header.Get("Allow"))
			require.True(t, strings.Contains(string(r.body), tc.allow), "the message should name the allowed methods: %s", r.body)
		})
	}
}
