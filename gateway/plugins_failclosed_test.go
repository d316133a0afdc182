package gateway

import (
	"encoding/json"
	"io"
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

// TestPluginsAPI_invokeMemoryBudget: dry runs are instances like any other
// and reserve their memory limit from plugin_limits.max_memory_mib. With a
// 1024 MiB budget and a 512 MiB plugin (its live instance holds half), four
// concurrent invokes get one dry run; the others answer 503 with
// Retry-After, where before they took 1.7 GB between them (issue 10,
// finding 5).
func TestPluginsAPI_invokeMemoryBudget(t *testing.T) {
	t.Parallel()
	gate := watModule(t, "gate")
	wasm := filepath.Join(t.TempDir(), "gate.wasm")
	require.NoError(t, os.WriteFile(wasm, gate, 0o600))
	s := newSite(t)
	// Each dry run spins to its 5 s deadline, so the four overlap: they
	// start together, and a 5 s call leaves a wide margin for that.
	r := s.start(s.config("plugin_limits: {max_memory_mib: 1024}\n" +
		"plugins:\n  - name: gate\n    path: " + wasm + "\n    kind: filter\n" +
		"    limits: {memory_mib: 512, timeout: 5s, instances: 1}\n"))

	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	answers := make(chan answer, 4)
	for range 4 {
		go func() {
			resp, err := client.Post(r.base+"/v1/plugins/gate/invoke", "application/json",
				strings.NewReader(`{"event":{"type":"a.b","data":"spin"}}`))
			if err != nil {
				answers <- answer{body: err.Error()}
				return
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(raw)}
		}()
	}
	ran, refused := 0, 0
	for range 4 {
		a := require.Receive(t, answers, "an invoke to answer")
		switch {
		case a.status == http.StatusOK:
			ran++
		case a.status == http.StatusServiceUnavailable && a.retryAfter == "1" &&
			strings.Contains(a.body, "plugin_unavailable") && strings.Contains(a.body, "plugin_limits.max_memory_mib"):
			refused++
		default:
			t.Errorf("want 200, or 503 plugin_unavailable with Retry-After: 1 naming the budget; got %d %q: %s", a.status, a.retryAfter, a.body)
		}
	}
	if ran != 1 || refused != 3 {
		t.Errorf("want 1 dry run and 3 refused within the budget; got %d and %d", ran, refused)
	}
	// The budget is free again: a dry run now runs.
	status, err := r.send(t, http.MethodPost, "/v1/plugins/gate/invoke", "application/json", []byte(`{"event":{"type":"a.b","data":{}}}`), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)

	// An upload that does not fit beside the live 512 MiB instance waits
	// for room (503); one that could never fit is invalid (422).
	var e apiError
	r.putWasm(t, "big", "kind=filter&limits.memory_mib=600", gate, http.StatusServiceUnavailable, &e)
	require.Equal(t, "plugin_unavailable", e.Error.Code)
	r.putWasm(t, "huge", "kind=filter&limits.memory_mib=2048", gate, http.StatusUnprocessableEntity, &e)
	require.Contains(t, e.Error.Message, "plugin_limits.max_memory_mib (1024)")
}

// TestPluginsAPI_configMasked: plugin config values whose key looks
// secret (salt, secret, token, password, key, credential) or that the
// plugin lists in secret_keys come back from GET and list as a hint only,
// like webhook secrets (issue 10, finding 9: a redact hash_salt came back
// in clear).
func TestPluginsAPI_configMasked(t *testing.T) {
	t.Parallel()
	wasm := filepath.Join(t.TempDir(), "allow.wasm")
	allow := watModule(t, "allow")
	require.NoError(t, os.WriteFile(wasm, allow, 0o600))
	s := newSite(t)
	r := s.start(s.config("plugins:\n  - name: redact\n    path: " + wasm + "\n    kind: filter\n" +
		"    config: {hash_salt: pepper-0123456789-wxyz, mode: hash, signing_id: id-0123456789-abcd}\n" +
		"    secret_keys: [signing_id]\n"))
	r.putWasm(t, "uploaded", "kind=filter&config.api_token=tok-0123456789-efgh&config.fields=phone&config.pin=42&secret_keys=pin", allow, http.StatusOK, nil)

	want := map[string]map[string]string{
		"redact":   {"hash_salt": "…wxyz", "mode": "hash", "signing_id": "…abcd"},
		"uploaded": {"api_token": "…efgh", "fields": "phone", "pin": "…"},
	}
	var list struct{ Data []pluginView }
	r.mustDo(t, http.MethodGet, "/v1/plugins", "", http.StatusOK, &list)
	require.Equal(t, 2, len(list.Data))
	for _, p := range list.Data {
		var one pluginView
		r.mustDo(t, http.MethodGet, "/v1/plugins/"+p.Name, "", http.StatusOK, &one)
		for name, got := range map[string]map[string]string{"list": p.Config, "get": one.Config} {
			for k, v := range want[p.Name] {
				if got[k] != v {
					t.Errorf("%s %s: config %s = %q, want %q", name, p.Name, k, got[k], v)
				}
			}
		}
	}
	// The plugin itself still gets the real values: the upload round trip
	// (settings saved, then loaded again) keeps them.
	raw, err := json.Marshal(list)
	require.NoError(t, err)
	for _, secret := range []string{"pepper", "tok-0123", "id-0123", `"42"`} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the plugin list shows %q: %s", secret, raw)
		}
	}
}
