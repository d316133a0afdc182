package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
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
	s := "  - name: " + name + "\n    path: " + watFile(tb, name) + "\n    kind: " + kind + "\n    limits: {timeout: 5s}\n"
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
	require.Contains(t, d.Note, `"drop"`)
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
