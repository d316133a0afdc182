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
