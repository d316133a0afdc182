package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestAudit_file runs the gateway with audit.file set and checks, through
// real HTTP calls, that a refused key, a webhook and a plugin change (with
// the key's name) and a plugin timeout each leave one JSON line in the
// file, which only the gateway's user can read, and none in the main log.
func TestAudit_file(t *testing.T) {
	const key = "audit-test-key-0123456789abcdef"
	s := newSite(t)
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	cfg := s.config("auth:\n  api_keys:\n    - name: ops\n      key: " + key + "\n      scopes: [admin, publish]\n" +
		"audit:\n  file: " + auditPath + "\n")
	r := s.start(cfg)

	// call answers the status, and decodes the body into out if it is set.
	call := func(method, path, auth, contentType string, body []byte, out any) int {
		t.Helper()
		req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	bearer := "bearer " + key
	require.Equal(t, http.StatusUnauthorized, call(http.MethodGet, "/v1/webhooks", "Bearer wrong-key-0123456789-wxyz", "", nil, nil))

	var created struct {
		ID string `json:"id"`
	}
	require.Equal(t, http.StatusCreated, call(http.MethodPost, "/v1/webhooks", bearer, "application/json",
		[]byte(`{"url":"https://example.com/h","event_types":[">"]}`), &created))
	require.Equal(t, http.StatusNoContent, call(http.MethodDelete, "/v1/webhooks/"+created.ID, bearer, "", nil, nil))

	// A deadline test: the plugin spins, so the call ends at its 100 ms
	// deadline whatever the machine's speed.
	require.Equal(t, http.StatusOK, call(http.MethodPut, "/v1/plugins/spin?kind=filter&limits.timeout=100ms", bearer, "application/wasm", watModule(t, "spin"), nil))
	status := call(http.MethodPost, "/v1/plugins/spin/invoke", bearer, "application/json", []byte(`{"event":{"type":"a.b","data":{}}}`), nil)
	require.Equal(t, http.StatusOK, status, "a dry run reports the plugin's timeout in its answer")
	require.NoError(t, r.stop(t))

	fi, err := os.Stat(auditPath)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	raw, err := os.ReadFile(auditPath)
	require.NoError(t, err)
	require.False(t, strings.Contains(string(raw), key[:len(key)-4]), "the audit file shows the key:\n%s", raw)
	var got []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		require.Equal(t, true, m["audit"])
		switch m["kind"] {
		case "auth_failed":
			got = append(got, "auth_failed "+m["reason"].(string)+" "+m["key_hint"].(string))
		case "changed":
			got = append(got, "changed "+m["object"].(string)+" "+m["action"].(string)+" "+m["actor"].(string))
		case "plugin_timeout":
			got = append(got, "plugin_timeout "+m["plugin"].(string)+" "+m["stage"].(string))
		default:
			t.Fatalf("unexpected audit line: %s", line)
		}
	}
	require.Equal(t, strings.Join([]string{
		"auth_failed invalid API key …wxyz",
		"changed webhook create ops",
		"changed webhook delete ops",
		"changed plugin create ops",
		"plugin_timeout spin filter",
	}, "\n"), strings.Join(got, "\n"))
	require.False(t, strings.Contains(s.log.String(), "audit=true"), "the main log has audit lines:\n%s", s.log.String())
}
