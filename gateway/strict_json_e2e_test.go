package gateway

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestPlugins_fraudDuplicateKeys is the regression test for issue 10
// finding 3, with the first-party fraud plugin as an ingest filter: a
// duplicated "amount", "ip" or "card_id" used to show the plugin the first
// value (SDK Get) while the receiver reads the last. Now the gateway
// refuses the body with 400 duplicate_key before the plugin runs, and the
// plain events are judged as before.
func TestPlugins_fraudDuplicateKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go plugin")
	}
	t.Parallel()
	src, err := filepath.Abs("../plugins/fraud")
	require.NoError(t, err)
	s := newSite(t)
	r := s.start(s.config(deliveryConfig() +
		"plugins:\n  - name: fraud\n    source: " + src + "\n    kind: filter\n    stage: ingest\n" +
		"    config: {deny_above: \"5000\", blocklist: ip, block_ip: 10.0.0.1}\n" +
		"    limits: {timeout: " + testPluginTimeout + "}\n"))

	type apiError struct {
		Error struct{ Code, Message string }
	}
	for _, tc := range []struct{ name, data string }{
		{"amount", `{"amount":1,"amount":999999}`},
		{"amount, other case", `{"amount":1,"Amount":999999}`},
		{"ip", `{"ip":"192.0.2.1","ip":"10.0.0.1","amount":1}`},
	} {
		var e apiError
		r.mustDo(t, http.MethodPost, "/v1/events", `{"type":"payment.created","data":`+tc.data+`}`, http.StatusBadRequest, &e)
		require.Equal(t, "duplicate_key", e.Error.Code, tc.name)
	}
	var e apiError
	r.mustDo(t, http.MethodPost, "/v1/events", `{"type":"payment.created","data":{"amount":999999}}`, http.StatusForbidden, &e)
	require.Equal(t, "denied", e.Error.Code)
	r.mustDo(t, http.MethodPost, "/v1/events", `{"type":"payment.created","data":{"ip":"10.0.0.1"}}`, http.StatusForbidden, &e)
	r.publish(t, "payment.created", `{"amount":1,"ip":"192.0.2.1"}`)

	var page struct{ Data []struct{ ID string } }
	r.mustDo(t, http.MethodGet, "/v1/events", "", http.StatusOK, &page)
	require.Equal(t, 1, len(page.Data))
}
