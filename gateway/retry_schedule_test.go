package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestDelivery_emptyRetrySchedule checks that retry_schedule: [] means no
// retries (one attempt, then dead) wherever it is set: a config webhook's,
// an API webhook's, and delivery.retry_schedule; and that a webhook whose
// retry_schedule is absent or null keeps the gateway's schedule.
func TestDelivery_emptyRetrySchedule(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusInternalServerError))
	s := newSite(t)
	r := s.start(s.config(deliveryConfig() + "webhooks:\n" +
		"  - id: wh_once\n    url: " + rc.URL + "\n    event_types: [\"once.>\"]\n    retry_schedule: []\n" +
		"  - id: wh_default\n    url: " + rc.URL + "\n    event_types: [\"default.>\"]\n    retry_schedule:\n"))
	api := r.createHook(t, rc.URL, []string{"api.>"}, `"retry_schedule": []`)
	var raw json.RawMessage
	r.mustDo(t, http.MethodPatch, "/v1/webhooks/"+api.ID, `{"retry_schedule": null}`, http.StatusOK, nil)
	for _, id := range []string{"wh_once", api.ID} {
		r.mustDo(t, http.MethodGet, "/v1/webhooks/"+id, "", http.StatusOK, &raw)
		require.Contains(t, string(raw), `"retry_schedule":[]`, "webhook %s", id)
	}
	r.mustDo(t, http.MethodGet, "/v1/webhooks/wh_default", "", http.StatusOK, &raw)
	require.False(t, strings.Contains(string(raw), "retry_schedule"), "wh_default shows a schedule of its own: %s", raw)

	for typ, wh := range map[string]string{"once.x": "wh_once", "api.x": api.ID, "default.x": "wh_default"} {
		ev := r.publish(t, typ, `{}`)
		d := r.waitDelivery(t, ev.ID, wh, outbox.StatusDead)
		want := 1
		if wh == "wh_default" {
			want = 3 // the test config's schedule: [50ms, 100ms]
		}
		require.Equal(t, want, d.Attempts, "attempts of the delivery to %s", wh)
	}

	global := newSite(t)
	g := global.start(global.deliveryConfig("retry_schedule: []"))
	hook := g.createHook(t, rc.URL, []string{">"}, "")
	ev := g.publish(t, "a.b", `{}`)
	require.Equal(t, 1, g.waitDelivery(t, ev.ID, hook.ID, outbox.StatusDead).Attempts)
}
