package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
