package gateway

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

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
