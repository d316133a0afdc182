package httpapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// auditLines is an audit.Log that keeps its JSON lines for a test.
type auditLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (a *auditLines) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.buf.Write(p)
}

func (a *auditLines) log() *audit.Log {
	return audit.New(slog.New(slog.NewJSONHandler(a, nil)))
}

// take returns the lines written since the last take, decoded.
func (a *auditLines) take(t *testing.T) []map[string]any {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(a.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		delete(m, "time")
		delete(m, "level")
		out = append(out, m)
	}
	a.buf.Reset()
	return out
}

func withAudit(a *auditLines) harnessOption {
	return func(c *harnessConfig) { c.audit = a.log() }
}

// TestAPI_audit: every refused key and every change through the API
// leaves one audit line with the remote address or the key's name, and
// none shows a key.
func TestAPI_audit(t *testing.T) {
	t.Parallel()
	lines := &auditLines{}
	f := &fakePlugins{}
	h := newHarness(t, withAudit(lines), withPlugins(f, 0))
	requireLines := func(want ...string) {
		t.Helper()
		got := lines.take(t)
		var gs []string
		for _, m := range got {
			require.Equal(t, true, m["audit"])
			if r, ok := m["remote"].(string); ok {
				require.True(t, strings.HasPrefix(r, "127.0.0.1:"), "remote %q", r)
				delete(m, "remote")
			}
			delete(m, "audit")
			b, _ := json.Marshal(m)
			gs = append(gs, string(b))
			for _, key := range []string{keyBoth, keyPublish, keyAdmin} {
				require.False(t, strings.Contains(string(b), key), "an audit line shows a key: %s", b)
			}
		}
		require.Equal(t, strings.Join(want, "\n"), strings.Join(gs, "\n"))
	}

	requireStatus(t, h.get("/v1/webhooks", "Authorization", ""), http.StatusUnauthorized)
	requireStatus(t, h.get("/v1/webhooks", "Authorization", "Bearer wrong-key-0123456789-wxyz"), http.StatusUnauthorized)
	requireStatus(t, h.get("/v1/webhooks", "Authorization", "Bearer short"), http.StatusUnauthorized)
	requireStatus(t, h.get("/v1/webhooks", "Authorization", "Bearer "+keyPublish), http.StatusForbidden)
	requireLines(
		`{"key_hint":"","kind":"auth_failed","msg":"auth_failed","reason":"missing API key"}`,
		`{"key_hint":"…wxyz","kind":"auth_failed","msg":"auth_failed","reason":"invalid API key"}`,
		`{"key_hint":"","kind":"auth_failed","msg":"auth_failed","reason":"invalid API key"}`,
		`{"key_hint":"…cdef","kind":"auth_failed","msg":"auth_failed","reason":"API key publisher lacks the admin scope"}`,
	)

	// A publish is not a change; the open probes are not audited.
	h.publish(`{"type":"a.b","data":1}`)
	requireStatus(t, h.get("/healthz", "Authorization", ""), http.StatusOK)
	requireLines()

	admin := []string{"Authorization", "Bearer " + keyAdmin, "Content-Type", "application/json"}
	r := h.do(http.MethodPost, "/v1/webhooks", `{"url":"https://example.com/h","event_types":[">"]}`, admin...)
	requireStatus(t, r, http.StatusCreated)
	id := decodeStrict[webhookJSON](t, r).ID
	path := "/v1/webhooks/" + id
	requireStatus(t, h.do(http.MethodPatch, path, `{"enabled":false}`, admin...), http.StatusOK)
	requireStatus(t, h.do(http.MethodPatch, path, `{"enabled":true}`, admin...), http.StatusOK)
	requireStatus(t, h.do(http.MethodPatch, path, `{"description":"d","enabled":true}`, admin...), http.StatusOK)
	requireStatus(t, h.do(http.MethodPost, path+"/secret/rotate", "", "Authorization", "Bearer "+keyBoth), http.StatusOK)
	requireStatus(t, h.do(http.MethodDelete, path, "", admin...), http.StatusNoContent)
	// Refused changes are not changes.
	requireStatus(t, h.do(http.MethodDelete, path, "", admin...), http.StatusNotFound)
	requireStatus(t, h.do(http.MethodPatch, path, `{"url":"ftp://x"}`, admin...), http.StatusUnprocessableEntity)
	requireLines(
		`{"action":"create","actor":"admin","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
		`{"action":"disable","actor":"admin","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
		`{"action":"enable","actor":"admin","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
		`{"action":"update","actor":"admin","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
		`{"action":"rotate","actor":"both","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
		`{"action":"delete","actor":"admin","id":"`+id+`","kind":"changed","msg":"changed","object":"webhook"}`,
	)

	wasm := []string{"Authorization", "Bearer " + keyAdmin, "Content-Type", "application/wasm"}
	requireStatus(t, h.do(http.MethodPut, "/v1/plugins/fraud?kind=filter", "\x00asm", wasm...), http.StatusOK)
	requireStatus(t, h.do(http.MethodPut, "/v1/plugins/fraud?kind=filter", "\x00asm", wasm...), http.StatusOK)
	requireStatus(t, h.do(http.MethodDelete, "/v1/plugins/fraud", "", admin...), http.StatusNoContent)
	requireLines(
		`{"action":"create","actor":"admin","id":"fraud","kind":"changed","msg":"changed","object":"plugin"}`,
		`{"action":"update","actor":"admin","id":"fraud","kind":"changed","msg":"changed","object":"plugin"}`,
		`{"action":"delete","actor":"admin","id":"fraud","kind":"changed","msg":"changed","object":"plugin"}`,
	)
}
