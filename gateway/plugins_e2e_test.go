package gateway

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// eventWithVerdicts is GET /v1/events/{id} as the plugin tests read it.
type eventWithVerdicts struct {
	ID       string             `json:"id"`
	Status   string             `json:"status"`
	Verdicts []pipeline.Verdict `json:"verdicts"`
}

// TestPlugins_endToEnd runs Go SDK plugins, built from source by the
// gateway itself, in the real pipeline: a velocity filter (kv_incr with a
// TTL) denies, and denied events are never delivered; a per-webhook
// transform changes only its webhook's copy; an observer sees events and
// the gateway's operational events.
func TestPlugins_endToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three Go plugins")
	}
	t.Parallel()
	src, err := filepath.Abs("testdata/plugins")
	require.NoError(t, err)
	s := newSite(t)
	plain := newReceiver(t, status(http.StatusNoContent))
	partner := newReceiver(t, status(http.StatusNoContent))
	yaml := deliveryConfig() +
		"plugins:\n" +
		"  - name: velocity\n    source: " + src + "/velocity\n    kind: filter\n    event_types: [\"payment.>\"]\n" +
		"    config: {max_per_window: \"2\"}\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		// The partner's deliveries run the transform concurrently (up to
		// max_in_flight, 8): an instance each, so that no call waits for one
		// (a wait longer than 1 s is an error, and a busy machine stalls).
		"  - name: redact\n    source: " + src + "/redact\n    kind: transform\n    limits: {timeout: " + testPluginTimeout + ", instances: 8}\n" +
		"  - name: watcher\n    source: " + src + "/watcher\n    kind: observer\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		"webhooks:\n" +
		"  - id: wh_plain\n    url: " + plain.URL + "\n    event_types: [\">\"]\n" +
		"  - id: wh_partner\n    url: " + partner.URL + "\n    event_types: [\">\"]\n    transform: redact\n"
	r := s.start(s.config(yaml))

	pay := `{"card_id":"c1","amount":10,"email":"ann@example.com"}`
	first := r.publish(t, "payment.created", pay)
	second := r.publish(t, "payment.created", pay)
	third := r.publish(t, "payment.created", pay) // the third in a minute: denied
	large := r.publish(t, "payment.created", `{"card_id":"c2","amount":5000}`)
	other := r.publish(t, "link.clicked", `{"email":"bob@example.com"}`)

	for _, id := range []string{first.ID, second.ID, large.ID, other.ID} {
		r.waitDelivery(t, id, "wh_plain", "succeeded")
		r.waitDelivery(t, id, "wh_partner", "succeeded")
	}

	var ev eventWithVerdicts
	r.mustDo(t, http.MethodGet, "/v1/events/"+third.ID, "", http.StatusOK, &ev)
	require.Equal(t, "denied", ev.Status)
	require.Equal(t, 1, len(ev.Verdicts))
	require.Equal(t, "velocity", ev.Verdicts[0].Plugin)
	require.Equal(t, pipeline.OutcomeDeny, ev.Verdicts[0].Outcome)
	require.Contains(t, ev.Verdicts[0].Reason, "3 payments this minute")
	// Every event published after it was delivered, so it had its chance.
	require.Equal(t, 0, len(plain.of(third.ID)))
	require.Equal(t, 0, len(partner.of(third.ID)))

	r.mustDo(t, http.MethodGet, "/v1/events/"+large.ID, "", http.StatusOK, &ev)
	require.Equal(t, "dispatched", ev.Status)
	require.Equal(t, pipeline.OutcomeFlag, ev.Verdicts[0].Outcome)
	require.Contains(t, ev.Verdicts[0].Reason, "large amount 5000")

	// The transform changed the partner's copy only.
	for _, id := range []string{first.ID, other.ID} {
		require.Contains(t, string(plain.of(id)[0].Body), `"email"`)
		body := string(partner.of(id)[0].Body)
		require.False(t, strings.Contains(body, `"email"`), "partner copy of %s still has the email: %s", id, body)
		require.Contains(t, body, `"redacted_for":"wh_partner"`)
	}

	require.Eventually(t, "the observer to log the events and the operational events", func() bool {
		log := s.log.String()
		return strings.Contains(log, "watcher saw "+first.ID) && strings.Contains(log, "watcher saw "+other.ID) &&
			strings.Contains(log, "gateway.delivery.succeeded")
	})
}

// TestPlugins_ingestStage checks that a filter with stage: ingest runs
// before the 202: a deny answers 403 with the reason, and nothing is stored.
func TestPlugins_ingestStage(t *testing.T) {
	r := startIngestVelocity(t, 1)

	pay := `{"type":"payment.created","data":{"card_id":"c9","amount":1}}`
	r.mustDo(t, http.MethodPost, "/v1/events", pay, http.StatusAccepted, nil)
	var refused struct {
		Error struct{ Code, Message string }
	}
	r.mustDo(t, http.MethodPost, "/v1/events", pay, http.StatusForbidden, &refused)
	require.Equal(t, "denied", refused.Error.Code)
	require.Contains(t, refused.Error.Message, "velocity: card c9")

	var page struct{ Data []eventWithVerdicts }
	r.mustDo(t, http.MethodGet, "/v1/events", "", http.StatusOK, &page)
	require.Equal(t, 1, len(page.Data))
}
