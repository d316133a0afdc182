package gateway

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// publishRaw posts body to /v1/events and returns the status, the
// Retry-After header and the decoded error envelope; a transport failure
// is status 0 with the error as the message. It may run on any goroutine.
func (r *running) publishRaw(body string) (int, string, apiError) {
	var e apiError
	resp, err := client.Post(r.base+"/v1/events", "application/json", strings.NewReader(body))
	if err != nil {
		e.Error.Message = err.Error()
		return 0, "", e
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, resp.Header.Get("Retry-After"), e
}

// TestPlugins_ingestFailClosed checks that an ingest filter that fails
// under on_error: deny (a crash, a timeout, a busy pool) answers 503 with
// Retry-After and plugin_unavailable, and logs a warning naming the plugin,
// while a real deny still answers 403 (issue 10, finding 8).
func TestPlugins_ingestFailClosed(t *testing.T) {
	t.Parallel()
	wasm := filepath.Join(t.TempDir(), "gate.wasm")
	require.NoError(t, os.WriteFile(wasm, watModule(t, "gate"), 0o600))
	s := newSite(t)
	// One instance, so a call that spins holds the pool; the 10 s deadline
	// (the most the config allows) leaves the second caller's 1 s wait for
	// an instance a 10x margin.
	r := s.start(s.config(deliveryConfig() +
		"plugins:\n  - name: gate\n    path: " + wasm + "\n    kind: filter\n    stage: ingest\n    on_error: deny\n" +
		"    limits: {timeout: 10s, instances: 1}\n"))

	type answer struct {
		status     int
		retryAfter string
		e          apiError
	}
	status, _, e := r.publishRaw(`{"type":"a.b","data":false}`)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "denied", e.Error.Code)
	r.mustDo(t, http.MethodPost, "/v1/events", `{"type":"a.b","data":{}}`, http.StatusAccepted, nil)
	status, ra, e := r.publishRaw(`{"type":"a.b","data":true}`)
	crashed := answer{status, ra, e}

	spun := make(chan answer, 1)
	go func() {
		status, ra, e := r.publishRaw(`{"type":"a.b","data":"spin"}`)
		spun <- answer{status, ra, e}
	}()
	// Wait until the spinning call holds the only instance.
	require.Eventually(t, "the spinning call to start", func() bool {
		var p struct{ Stats struct{ Calls int } }
		r.mustDo(t, http.MethodGet, "/v1/plugins/gate", "", http.StatusOK, &p)
		return p.Stats.Calls == 4
	})
	status, ra, e = r.publishRaw(`{"type":"a.b","data":{}}`)
	busy := answer{status, ra, e}
	timedOut := require.Receive(t, spun, "the spinning publish to answer")
	for name, a := range map[string]answer{"crash": crashed, "busy pool": busy, "timeout": timedOut} {
		if a.status != http.StatusServiceUnavailable || a.retryAfter != "1" || a.e.Error.Code != "plugin_unavailable" {
			t.Errorf("%s: want 503, Retry-After: 1, plugin_unavailable; got %d, Retry-After %q, %+v", name, a.status, a.retryAfter, a.e)
		}
	}
	log := s.log.String()
	for _, want := range []string{"crashed", "busy", "deadline exceeded"} {
		found := false
		for line := range strings.Lines(log) {
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "plugin=gate") && strings.Contains(line, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no WARN line naming plugin=gate and %q in the log", want)
		}
	}
	var page struct{ Data []json.RawMessage }
	r.mustDo(t, http.MethodGet, "/v1/events", "", http.StatusOK, &page)
	require.Equal(t, 1, len(page.Data))
}
