package gateway

import (
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// publishWith posts body to path with the given header pairs and returns
// the status, the Idempotent-Replayed header and the body.
func (r *running) publishWith(tb testing.TB, path, body string, hdr ...string) (int, string, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, r.base+path, strings.NewReader(body))
	require.NoError(tb, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	return resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), string(raw)
}

// startIngestVelocity runs a gateway with the velocity plugin as a stage:
// ingest filter that denies a card's payments after max in a minute. It
// skips the test under -short and runs it in parallel.
func startIngestVelocity(t *testing.T, max int) *running {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go plugin")
	}
	t.Parallel()
	src, err := filepath.Abs("testdata/plugins")
	require.NoError(t, err)
	s := newSite(t)
	return s.start(s.config(deliveryConfig() +
		"plugins:\n  - name: velocity\n    source: " + src + "/velocity\n    kind: filter\n    stage: ingest\n" +
		"    config: {max_per_window: \"" + strconv.Itoa(max) + "\"}\n    limits: {timeout: " + testPluginTimeout + "}\n"))
}

// TestPlugins_ingestFilterSkipsReplays checks that a retried publish is
// answered from its idempotency key before any stage: ingest filter runs:
// a velocity filter counts each accepted payment once however often the
// client retries it (Idempotency-Key header, client id, CloudEvents
// source+id; single and batch), a key reused with a different body is
// refused without being counted, and the card's next genuine payment is
// still allowed.
func TestPlugins_ingestFilterSkipsReplays(t *testing.T) {
	r := startIngestVelocity(t, 3)

	// Each case publishes first (202), retries it (200, replayed), and
	// reuses its key with another body (422); the velocity counter of its
	// card must count first once and nothing else.
	pay := func(card string) string {
		return `{"type":"payment.created","data":{"card_id":"` + card + `","amount":1}}`
	}
	ce := func(id, card, amount string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"/shop","type":"payment.created","data":{"card_id":"` + card + `","amount":` + amount + `}}`
	}
	tests := []struct {
		name         string
		path         string
		hdr          []string
		first, other string
		card         string
		counted      int // payments first adds to its card's counter
	}{
		{"Idempotency-Key header", "/v1/events", []string{"Idempotency-Key", "pay-1"},
			pay("c1"), `{"type":"payment.created","data":{"card_id":"c1","amount":2}}`, "c1", 1},
		{"client id", "/v1/events", nil,
			`{"id":"pay-2","type":"payment.created","data":{"card_id":"c2","amount":1}}`,
			`{"id":"pay-2","type":"payment.created","data":{"card_id":"c2","amount":2}}`, "c2", 1},
		{"CloudEvents source+id", "/v1/events", []string{"Content-Type", "application/cloudevents+json"},
			ce("pay-3", "c3", "1"), ce("pay-3", "c3", "2"), "c3", 1},
		{"batch with Idempotency-Key", "/v1/events/batch", []string{"Idempotency-Key", "batch-4"},
			`{"events":[` + pay("c4") + `,` + pay("c4") + `]}`,
			`{"events":[` + pay("c4") + `,` + pay("c8") + `]}`, "c4", 2},
		{"batch repeating a client id", "/v1/events/batch", nil,
			`{"events":[{"id":"pay-5","type":"payment.created","data":{"card_id":"c5","amount":1}},{"id":"pay-5","type":"payment.created","data":{"card_id":"c5","amount":1}}]}`,
			`{"events":[{"id":"pay-5","type":"payment.created","data":{"card_id":"c5","amount":2}}]}`, "c5", 1},
		{"batch of CloudEvents", "/v1/events/batch", []string{"Content-Type", "application/cloudevents-batch+json"},
			`[` + ce("pay-6a", "c6", "1") + `,` + ce("pay-6b", "c6", "1") + `]`,
			`[` + ce("pay-6a", "c6", "1") + `,` + ce("pay-6b", "c6", "2") + `]`, "c6", 2},
	}
	for _, tc := range tests {
		status, replayed, body := r.publishWith(t, tc.path, tc.first, tc.hdr...)
		require.True(t, status == http.StatusAccepted && replayed == "", "%s: first publish: %d %q %s", tc.name, status, replayed, body)
		for i := range 4 {
			status, replayed, body = r.publishWith(t, tc.path, tc.first, tc.hdr...)
			require.True(t, status == http.StatusOK && replayed == "true", "%s: retry %d: want 200 replayed, got %d %q %s", tc.name, i+1, status, replayed, body)
		}
		for i := range 4 {
			status, _, body = r.publishWith(t, tc.path, tc.other, tc.hdr...)
			require.True(t, status == http.StatusUnprocessableEntity && strings.Contains(body, "idempotency_key_reused"),
				"%s: key reused with another body, try %d: want 422 idempotency_key_reused, got %d %s", tc.name, i+1, status, body)
		}
		// The card's genuine payments up to the limit go through.
		for i := tc.counted; i < 3; i++ {
			status, _, body = r.publishWith(t, "/v1/events", pay(tc.card))
			require.True(t, status == http.StatusAccepted, "%s: genuine payment %d after the retries: want 202, got %d %s", tc.name, i+1, status, body)
		}
	}

	// A batch that replays one stored event and adds a new one counts only
	// the new one.
	status, _, body := r.publishWith(t, "/v1/events", `{"id":"pay-7","type":"payment.created","data":{"card_id":"c7","amount":1}}`)
	require.True(t, status == http.StatusAccepted, "pay-7: %d %s", status, body)
	mixed := `{"events":[{"id":"pay-7","type":"payment.created","data":{"card_id":"c7","amount":1}},` + pay("c7") + `]}`
	for i := range 3 {
		status, replayed, body := r.publishWith(t, "/v1/events/batch", mixed, "Idempotency-Key", "batch-7")
		want := http.StatusOK
		if i == 0 {
			want = http.StatusAccepted
		}
		require.True(t, status == want, "mixed batch, try %d: want %d, got %d %q %s", i+1, want, status, replayed, body)
	}
	status, _, body = r.publishWith(t, "/v1/events", pay("c7"))
	require.True(t, status == http.StatusAccepted, "c7's third payment: want 202, got %d %s", status, body)

	// The filter is live: a fresh card's fourth payment in a row is denied.
	for i := range 3 {
		status, _, body = r.publishWith(t, "/v1/events", pay("c9"))
		require.True(t, status == http.StatusAccepted, "c9 payment %d: want 202, got %d %s", i+1, status, body)
	}
	status, _, body = r.publishWith(t, "/v1/events", pay("c9"))
	require.True(t, status == http.StatusForbidden && strings.Contains(body, "velocity: card c9"), "c9 payment 4: want 403, got %d %s", status, body)
}
