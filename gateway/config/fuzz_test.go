package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the YAML file. Load must not
// panic, and must return either a config that passes Validate or an error.
func FuzzLoad(f *testing.F) {
	for _, path := range referenceFiles(f) {
		b, err := os.ReadFile(path)
		requireNoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("server:\n  addr: 0.0.0.0:8080\n  max_body_bytes: abc\nwebhooks:\n  - id: a\n    urll: x\n"))
	f.Add([]byte("webhooks: {id: x}\nauth: {api_keys: [{key_env: GATEWAY_ADMIN_KEY, key: x}]}\n"))
	f.Add([]byte("server: [1, 2]\nlog: {level: [a]}\ningest: {idempotency_window: 1.5}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "gateway.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(LoadOptions{File: path, FileRequired: true, Env: referenceEnv})
		switch {
		case err != nil && c != nil:
			t.Fatalf("got both a config and an error: %v", err)
		case err == nil && c == nil:
			t.Fatal("got neither a config nor an error")
		case err == nil:
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load returned a config that fails Validate:\n%v", verr)
			}
		}
	})
}
