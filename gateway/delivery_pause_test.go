package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// These tests check pauses of a whole endpoint: every delivery of the
// webhook waits, and GET /v1/webhooks/{id} says until when and why.

// pauseView is the pause part of GET /v1/webhooks/{id}.
type pauseView struct {
	PausedUntil time.Time `json:"paused_until"`
	PauseReason string    `json:"pause_reason"`
}

// TestDelivery_retryAfterPausesEndpoint checks that a 429 with
// Retry-After holds back every delivery of the webhook until then, not only
// the one that got it, even with the breaker's short cooldown; that the
// webhook shows the pause while it lasts; and that a manual retry during
// the pause answers with it. The pause is 30 s, so that a busy machine
// still sees it (the checks are lower bounds on when requests arrived,
// never upper bounds).
func TestDelivery_retryAfterPausesEndpoint(t *testing.T) {
	t.Parallel()
	const wait = 30 * time.Second
	s := newSite(t)
	r := s.start(s.deliveryConfig("breaker_failures: 1"))
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if dataN(h.Body) == 0 && h.Nth == 1 {
			w.Header().Set("Retry-After", "30")
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
	require.Contains(t, p.PauseReason, "Retry-After: 30")
	require.False(t, p.PausedUntil.Before(first.At.Add(wait)), "paused until %s, less than 30s after the 429 at %s", p.PausedUntil, first.At)

	// A manual retry is held by the pause too, and its answer says so.
	d, ok := r.delivery(t, ids[1], wh.ID)
	require.True(t, ok, "event 1 has a delivery")
	var retried struct {
		Status string `json:"status"`
		pauseView
	}
	r.mustDo(t, http.MethodPost, "/v1/deliveries/"+d.ID+"/retry", "", http.StatusAccepted, &retried)
	require.Equal(t, p.PausedUntil, retried.PausedUntil)
	require.Equal(t, p.PauseReason, retried.PauseReason)

	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
	hits := rc.all()
	require.Equal(t, len(ids)+1, len(hits))
	for _, h := range hits[1:] {
		gap := h.At.Sub(first.At)
		require.True(t, gap >= wait, "event %d was sent %s after the 429 with Retry-After: 30", dataN(h.Body), gap)
	}
	p = pauseView{}
	r.mustDo(t, http.MethodGet, "/v1/webhooks/"+wh.ID, "", http.StatusOK, &p)
	require.True(t, p.PausedUntil.IsZero(), "the webhook still shows a pause after it ended: %+v", p)
}

// TestDelivery_missingTransformFailsClosed checks that a webhook whose
// transform plugin is no longer loaded (removed from the config across a
// restart) sends nothing unredacted: start-up logs an error naming the
// webhook and the plugin, each delivery stays pending with a last_error
// naming both and no attempt counted, the webhook shows why it waits, and
// uploading the plugin again lets the deliveries go out, transformed.
func TestDelivery_missingTransformFailsClosed(t *testing.T) {
	t.Parallel()
	// Built now: the re-checks back off while the test waits for the upload.
	stamp := watModule(t, "stamp")
	s := newSite(t)
	rc := newReceiver(t, nil)
	r := s.start(s.config(deliveryConfig() + "plugins:\n" + watPlugin(t, "stamp", "transform", "on_error: drop")))
	wh := r.createHook(t, rc.URL, []string{">"}, `"transform":"stamp"`)
	ev := r.publish(t, "a.b", `{"card":"4242"}`)
	r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, `{"stamped":true}`, string(dataOf(t, rc.of(ev.ID)[0].Body)))
	require.NoError(t, r.stop(t))

	r = s.start(s.deliveryConfig()) // the plugin is gone from the config
	logged := false
	for line := range strings.Lines(s.log.String()) {
		logged = logged || strings.Contains(line, "level=ERROR") && strings.Contains(line, "webhook="+wh.ID) && strings.Contains(line, "transform=stamp")
	}
	require.True(t, logged, "start-up logged no error naming %s and its transform", wh.ID)

	held := r.publish(t, "a.b", `{"card":"4343"}`)
	var d deliveryView
	require.Eventually(t, "the delivery to be attempted or to say why it waits", func() bool {
		d, _ = r.delivery(t, held.ID, wh.ID)
		return d.LastError != "" || d.Status != outbox.StatusPending
	})
	require.Equal(t, outbox.StatusPending, d.Status)
	require.Equal(t, 0, d.Attempts)
	require.Contains(t, d.LastError, `"stamp"`)
	require.Contains(t, d.LastError, "transform")
	require.Equal(t, 0, len(rc.of(held.ID)))
	require.Eventually(t, "the webhook to show why it waits", func() bool {
		var p pauseView
		r.mustDo(t, http.MethodGet, "/v1/webhooks/"+wh.ID, "", http.StatusOK, &p)
		return strings.Contains(p.PauseReason, `"stamp"`)
	})

	r.putWasm(t, "stamp", "kind=transform&on_error=drop", stamp, http.StatusOK, nil)
	d = r.waitDelivery(t, held.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 1, d.Attempts)
	hs := rc.of(held.ID)
	require.Equal(t, 1, len(hs))
	require.Equal(t, `{"stamped":true}`, string(dataOf(t, hs[0].Body)))
}

// dataOf returns the "data" member of a delivered body, compacted.
func dataOf(tb testing.TB, body []byte) []byte {
	tb.Helper()
	var p struct{ Data json.RawMessage }
	require.NoError(tb, json.Unmarshal(body, &p))
	var b bytes.Buffer
	require.NoError(tb, json.Compact(&b, p.Data))
	return b.Bytes()
}
