package plugins_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/config"
)

// TestREADME_examples loads the YAML example of every plugin's README with
// the gateway's config loader, so an example never drifts from the config
// schema.
func TestREADME_examples(t *testing.T) {
	readmes, err := filepath.Glob("*/README.md")
	if err != nil || len(readmes) == 0 {
		t.Fatalf("no plugin READMEs: %v", err)
	}
	for _, readme := range readmes {
		t.Run(filepath.Dir(readme), func(t *testing.T) {
			b, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			_, rest, ok := strings.Cut(string(b), "```yaml\n")
			yaml, _, closed := strings.Cut(rest, "```")
			if !ok || !closed {
				t.Fatal("no ```yaml example")
			}
			file := filepath.Join(t.TempDir(), "gateway.yaml")
			if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.LoadOptions{File: file, FileRequired: true, Env: []string{}})
			if err != nil {
				t.Fatalf("example does not load: %v\n%s", err, yaml)
			}
			if len(cfg.Plugins) != 1 || cfg.Plugins[0].Name == "" {
				t.Fatalf("example declares %d plugins, want 1", len(cfg.Plugins))
			}
		})
	}
}
