package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// FuzzLoad feeds arbitrary bytes to Load as the YAML file. Load must not
// panic, and must return either a config that passes Validate or an error.
func FuzzLoad(f *testing.F) {
	for _, path := range referenceFiles(f) {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("server:\n  addr: 0.0.0.0:8080\n  max_body_bytes: abc\nwebhooks:\n  - id: a\n    urll: x\n"))
	f.Add([]byte("webhooks: {id: x}\nauth: {api_keys: [{key_env: GATEWAY_ADMIN_KEY, key: x}]}\n"))
	f.Add([]byte("server: [1, 2]\nlog: {level: [a]}\ningest: {idempotency_window: 1.5}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		c, err := Load(LoadOptions{File: path, FileRequired: true, Env: referenceEnv})
		if err != nil {
			require.True(t, c == nil, "got both a config and an error: %v", err)
			return
		}
		require.True(t, c != nil, "got neither a config nor an error")
		require.NoError(t, c.Validate(), "Load returned a config that fails Validate")
	})
}
