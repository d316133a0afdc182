package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestModule_path(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.wasm")
	body := []byte("\x00asm\x01\x00\x00\x00")
	require.NoError(t, os.WriteFile(path, body, 0o600))
	sum := sha256.Sum256(body)

	got, err := Module(context.Background(), config.Plugin{Name: "p", Path: path}, dir)
	require.NoError(t, err)
	require.Equal(t, string(body), string(got))

	_, err = Module(context.Background(), config.Plugin{Name: "p", Path: path, SHA256: hex.EncodeToString(sum[:])}, dir)
	require.NoError(t, err)

	_, err = Module(context.Background(), config.Plugin{Name: "p", Path: path, SHA256: "00" + hex.EncodeToString(sum[1:])}, dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "config pins")

	_, err = Module(context.Background(), config.Plugin{Name: "p", Path: filepath.Join(dir, "missing.wasm")}, dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), `plugin "p": read`)
}

// TestModule_privateBuildCache: source builds are cached in a directory
// only the gateway's user can read (0700): under the data directory, or,
// with none (storage.memory), under the user's cache directory, never in
// the shared temp directory (issue 10, finding 9). The build itself fails
// (broken Go source): the cache directory exists before it runs.
func TestModule_privateBuildCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", cache)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() { nope }\n"), 0o600))
	pc := config.Plugin{Name: "broken", Source: src}
	ctx := context.Background()

	requirePrivate := func(dir string) {
		t.Helper()
		fi, err := os.Stat(dir)
		require.NoError(t, err, "the build cache %s", dir)
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("build cache %s has mode %v, want 0700", dir, fi.Mode().Perm())
		}
	}

	// No data directory: the user cache directory.
	_, err := NewManager(ctx, Options{Config: []config.Plugin{pc}, Store: newStore(t), Logger: slog.New(slog.DiscardHandler)})
	require.Error(t, err)
	requirePrivate(filepath.Join(cache, "gateway", "plugin-builds"))

	// A data directory, and a cache directory that exists with a wider mode.
	data := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(data, "plugin-builds"), 0o755))
	_, err = NewManager(ctx, Options{Config: []config.Plugin{pc}, DataDir: data, Store: newStore(t), Logger: slog.New(slog.DiscardHandler)})
	require.Error(t, err)
	requirePrivate(filepath.Join(data, "plugin-builds"))
}
