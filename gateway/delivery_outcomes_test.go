package gateway

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/sdk/verify"
)

// These tests check what plugins decide about deliveries: a webhook's own
// transform that drops an event, events the pipeline stopped, and flags.

// watFile compiles testdata/plugins/<name>.wat into a file that a config's
// path: can name.
func watFile(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name+".wasm")
	require.NoError(tb, os.WriteFile(p, watModule(tb, name), 0o600))
	return p
}

// watPlugin is a plugins: entry for testdata/plugins/<name>.wat with a
// generous call deadline; extra lines are indented by four spaces.
func watPlugin(tb testing.TB, name, kind string, extra ...string) string {
	tb.Helper()
	s := "  - name: " + name + "\n    path: " + watFile(tb, name) + "\n    kind: " + kind + "\n    limits: {timeout: " + testPluginTimeout + "}\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// opLog returns the lines the datalog observer logged: the data of the
// operational events it saw.
func opLog(s *site) []string {
	var out []string
	for line := range strings.Lines(s.log.String()) {
		if strings.Contains(line, "plugin=datalog") {
			out = append(out, line)
		}
	}
	return out
}

// TestDelivery_transformDropped checks that a webhook's own transform that
// drops an event ends that delivery "dropped": nothing is sent, it is not
// counted as a success (no gateway.delivery.succeeded, not listed as
// succeeded), it is listed with status=dropped, and it is no failure of
// the endpoint either (the webhook stays enabled).
func TestDelivery_transformDropped(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	dropping := newReceiver(t, nil)
	plain := newReceiver(t, nil)
	yaml := deliveryConfig() + "plugins:\n" +
		watPlugin(t, "drop", "transform") +
		watPlugin(t, "datalog", "observer", `event_types: ["gateway.delivery.>"]`) +
		"webhooks:\n" +
		"  - id: wh_dropping\n    url: " + dropping.URL + "\n    event_types: [\"a.>\"]\n    transform: drop\n" +
		"  - id: wh_plain\n    url: " + plain.URL + "\n    event_types: [\">\"]\n"
	r := s.start(s.config(yaml))

	ev := r.publish(t, "a.b", `{"n":1}`)
	d := r.waitDelivery(t, ev.ID, "wh_dropping", "dropped")
	require.Equal(t, 0, d.Attempts)
	require.Equal(t, 0, len(d.AttemptLog))
	require.Equal(t, outbox.NoteTransformDropped, d.Note)
	require.Contains(t, d.LastError, `"drop"`)
	require.Equal(t, 0, dropping.count())
	require.Equal(t, 1, len(r.deliveries(t, "wh_dropping", "dropped")))
	require.Equal(t, 0, len(r.deliveries(t, "wh_dropping", "succeeded")))
	require.True(t, r.webhook(t, "wh_dropping").Enabled, "a dropped event disabled the webhook: %+v", r.webhook(t, "wh_dropping"))

	// One recorder reports outcomes in the order it writes them, and the
	// observer's queue is FIFO: once the success of an event published
	// after the drop is logged, a report about the drop would be too.
	later := r.publish(t, "z.z", `{}`)
	ok := r.waitDelivery(t, later.ID, "wh_plain", "succeeded")
	require.Eventually(t, "the observer to log the later success", func() bool {
		return strings.Contains(strings.Join(opLog(s), ""), ok.ID)
	})
	for _, line := range opLog(s) {
		require.False(t, strings.Contains(line, d.ID), "an operational event about the dropped delivery: %s", line)
	}
}

// TestDelivery_stoppedEventsNeverSent checks that an event a filter denied
// is never sent, by any path: a replay skips it and says so, and a
// delivery of it that exists anyway (written by a replay before this rule)
// is neither attempted nor retried.
func TestDelivery_stoppedEventsNeverSent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go plugin")
	}
	t.Parallel()
	src, err := filepath.Abs("../plugins/fraud")
	require.NoError(t, err)
	s := newSite(t)
	rc := newReceiver(t, nil)
	yaml := deliveryConfig() +
		"plugins:\n  - name: fraud\n    source: " + src + "\n    kind: filter\n    event_types: [\"payment.>\"]\n" +
		"    config: {deny_above: \"10000\"}\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		"webhooks:\n  - id: wh_pay\n    url: " + rc.URL + "\n    event_types: [\">\"]\n"
	cfg := s.config(yaml)
	r := s.start(cfg)
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	denied := r.publish(t, "payment.created", `{"amount":20000}`)
	allowed := r.publish(t, "payment.created", `{"amount":50}`)
	r.waitDelivery(t, allowed.ID, "wh_pay", outbox.StatusSucceeded)
	var ev eventWithVerdicts
	r.mustDo(t, http.MethodGet, "/v1/events/"+denied.ID, "", http.StatusOK, &ev)
	require.Equal(t, "denied", ev.Status)
	_, ok := r.delivery(t, denied.ID, "wh_pay")
	require.False(t, ok, "fan-out created a delivery of a denied event")

	// A replay of the range re-sends the allowed event only, and counts
	// the denied one as skipped.
	var res struct{ Replayed, Skipped int }
	r.mustDo(t, http.MethodPost, "/v1/webhooks/wh_pay/replay", `{"since":"`+since+`"}`, http.StatusAccepted, &res)
	require.Equal(t, 1, res.Replayed)
	require.Equal(t, 1, res.Skipped)
	require.Eventually(t, "the allowed event to be replayed", func() bool { return len(rc.of(allowed.ID)) == 2 })
	_, ok = r.delivery(t, denied.ID, "wh_pay")
	require.False(t, ok, "a replay created a delivery of a denied event")

	// A delivery of the denied event written by an older replay is not
	// sent after a restart: it ends dropped, naming the verdict, and a
	// retry is refused.
	require.NoError(t, r.stop(t))
	st, err := store.Open(store.Options{Path: s.dataDir, Sync: true})
	require.NoError(t, err)
	var seq event.Seq
	page, _, err := st.Events(context.Background(), store.Query{Limit: 10})
	require.NoError(t, err)
	for _, e := range page {
		if e.ID == denied.ID {
			seq = e.Seq
		}
	}
	now := time.Now().UTC()
	_, err = st.CreateDeliveries(context.Background(), []outbox.Delivery{{
		EventSeq: seq, EventID: denied.ID, EventType: "payment.created", WebhookID: "wh_pay",
		Status: outbox.StatusPending, Note: "replayed through the API", CreatedAt: now, UpdatedAt: now,
	}})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	r = s.start(cfg)
	d := r.waitDelivery(t, denied.ID, "wh_pay", outbox.StatusDropped)
	require.Equal(t, 0, d.Attempts)
	require.Equal(t, outbox.NoteEventStopped, d.Note)
	require.Contains(t, d.LastError, "fraud")
	require.Contains(t, d.LastError, "deny")
	var e apiError
	r.mustDo(t, http.MethodPost, "/v1/deliveries/"+d.ID+"/retry", "", http.StatusConflict, &e)
	require.Contains(t, e.Error.Message, "fraud")
	require.Equal(t, 0, len(rc.of(denied.ID)))
}

// TestDelivery_flagsHeader checks that the reasons filters flagged an event
// with reach the receiver in webhook-flags, on the first attempt and on a
// retry alike, made header-safe (commas, CR, LF, '%' and non-ASCII bytes
// percent-encoded), outside the signed content; and that an event nobody
// flagged carries no such header.
func TestDelivery_flagsHeader(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	note := watFile(t, "note")
	s := newSite(t)
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if h.Nth == 1 && dataN(h.Body) == 1 {
			w.WriteHeader(http.StatusInternalServerError) // the retry reads the flags back from the store
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	yaml := deliveryConfig() + "plugins:\n" +
		"  - name: velocity\n    path: " + note + "\n    kind: filter\n    event_types: [\"flagged.>\"]\n" +
		"    config: {note: \"velocity: 3, 4\\r\\nnext\"}\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		"  - name: amount\n    path: " + note + "\n    kind: filter\n    event_types: [\"flagged.>\"]\n" +
		"    config: {note: \" Café 100% \"}\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		"webhooks:\n  - id: wh_all\n    url: " + rc.URL + "\n    event_types: [\">\"]\n    secret: " + secret + "\n"
	r := s.start(s.config(yaml))
	flagged := r.publish(t, "flagged.x", `{"n":1}`)
	plain := r.publish(t, "plain.x", `{"n":2}`)
	r.waitDelivery(t, flagged.ID, "wh_all", outbox.StatusSucceeded)
	r.waitDelivery(t, plain.ID, "wh_all", outbox.StatusSucceeded)

	hs := rc.of(flagged.ID)
	require.Equal(t, 2, len(hs))
	v, err := verify.New(secret)
	require.NoError(t, err)
	for i, h := range hs {
		require.Equal(t, "velocity: 3%2C 4%0D%0Anext, Caf%C3%A9 100%25", h.Header.Get("webhook-flags"), "attempt %d", i+1)
		require.NoError(t, v.Verify(h.Header, h.Body))
		require.Equal(t, "velocity: 3, 4\r\nnext|Café 100%", strings.Join(verify.Flags(h.Header), "|"))
	}
	require.Equal(t, 0, len(rc.of(plain.ID)[0].Header.Values("webhook-flags")))
}
