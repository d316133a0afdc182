package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// Idempotency-Key values live in the namespace of the API key that sent
// them (issue 10, finding 6): a publish-only key cannot claim, nor replay,
// another key's Idempotency-Key. Within one API key nothing changes.
func TestAPI_idempotencyKeyPerAPIKey(t *testing.T) {
	for _, path := range []string{"/v1/events", "/v1/events/batch"} {
		t.Run(path, func(t *testing.T) {
			h := newHarness(t)
			body := func(n string) string {
				if path == "/v1/events/batch" {
					return `{"events":[{"type":"order.created","data":` + n + `}]}`
				}
				return `{"type":"order.created","data":` + n + `}`
			}
			as := func(key, idem string) []string {
				return []string{"Idempotency-Key", idem, "Authorization", "Bearer " + key}
			}
			post := func(n, key, idem string, status int) {
				t.Helper()
				r := h.postJSON(path, body(n), as(key, idem)...)
				requireStatus(t, r, status)
				replayed := ""
				if status == http.StatusOK {
					replayed = "true"
				}
				require.Equal(t, replayed, r.header.Get("Idempotent-Replayed"))
			}
			post("1", keyBoth, "K", http.StatusAccepted)
			// Another key, another body: its own event, not a 422.
			post("2", keyPublish, "K", http.StatusAccepted)
			// Another key, the same body: its own event too, not the first
			// key's event replayed (which would tell its id).
			post("3", keyBoth, "K2", http.StatusAccepted)
			post("3", keyPublish, "K2", http.StatusAccepted)
			require.Equal(t, 4, len(h.allEvents("")))

			// Within each key, replays and refusals are as before.
			post("1", keyBoth, "K", http.StatusOK)
			post("2", keyPublish, "K", http.StatusOK)
			r := h.postJSON(path, body("2"), as(keyBoth, "K")...)
			requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
			require.Equal(t, 4, len(h.allEvents("")))
		})
	}
}

// Event ids stay global: they are the event's public id, not a request key.
// Another API key sending the same id with another body is refused, and
// with the same body replays the one event.
func TestAPI_idempotencyClientIDGlobal(t *testing.T) {
	h := newHarness(t)
	first := h.publish(`{"id":"order-1","type":"order.created","data":1}`)
	r := h.postJSON("/v1/events", `{"id":"order-1","type":"order.created","data":2}`, "Authorization", "Bearer "+keyPublish)
	requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
	r = h.postJSON("/v1/events", `{"id":"order-1","type":"order.created","data":1}`, "Authorization", "Bearer "+keyPublish)
	requireStatus(t, r, http.StatusOK)
	require.Equal(t, first, decodeStrict[receiptJSON](t, r))
}
