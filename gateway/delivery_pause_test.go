package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// These tests check pauses of a whole endpoint: every delivery of the
// webhook waits, and GET /v1/webhooks/{id} says until when and why.

// pauseView is the pause part of GET /v1/webhooks/{id}.
type pauseView struct {
	PausedUntil time.Time `json:"paused_until"`
	PauseReason string    `json:"pause_reason"`
}

// TestDelivery_retryAfterPausesEndpoint checks that a 429 with
// Retry-After: 8 holds back every delivery of the webhook until then, not
// only the one that got it, even with the breaker's short cooldown, and
// that the webhook shows the pause while it lasts. The checks are lower
// bounds on when requests arrived, never upper bounds.
func TestDelivery_retryAfterPausesEndpoint(t *testing.T) {
	t.Parallel()
	const wait = 8 * time.Second
	s := newSite(t)
	r := s.start(s.deliveryConfig("breaker_failures: 1"))
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if dataN(h.Body) == 0 && h.Nth == 1 {
			w.Header().Set("Retry-After", "8")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	// One at a time: the other deliveries are queued when the 429 comes.
	wh := r.createHook(t, rc.URL, []string{">"}, `"max_in_flight": 1`)
	ids := r.publishN(t, "a.b", 4)

	first := rc.waitCount(t, 1)[0]
	require.Equal(t, 0, dataN(first.Body))
	var p pauseView
	require.Eventually(t, "the webhook to show the pause", func() bool {
		p = pauseView{}
		r.mustDo(t, http.MethodGet, "/v1/webhooks/"+wh.ID, "", http.StatusOK, &p)
		return !p.PausedUntil.IsZero()
	})
	require.Contains(t, p.PauseReason, "429")
	require.Contains(t, p.PauseReason, "Retry-After: 8")
	require.False(t, p.PausedUntil.Before(first.At.Add(wait)), "paused until %s, less than 8s after the 429 at %s", p.PausedUntil, first.At)

	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, store.StatusSucceeded)
	}
	hits := rc.all()
	require.Equal(t, len(ids)+1, len(hits))
	for _, h := range hits[1:] {
		gap := h.At.Sub(first.At)
		require.True(t, gap >= wait, "event %d was sent %s after the 429 with Retry-After: 8", dataN(h.Body), gap)
	}
	p = pauseView{}
	r.mustDo(t, http.MethodGet, "/v1/webhooks/"+wh.ID, "", http.StatusOK, &p)
	require.True(t, p.PausedUntil.IsZero(), "the webhook still shows a pause after it ended: %+v", p)
}
