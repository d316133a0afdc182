package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/toolchain"
)

// Module returns the WebAssembly bytes of a configured plugin: the file at
// path, or the result of building source with its language's toolchain
// (Go, C or AssemblyScript; cached under cacheDir by the source's content
// hash, so a restart does not rebuild). A sha256 pin is checked against the bytes either way.
func Module(ctx context.Context, p config.Plugin, cacheDir string) ([]byte, error) {
	var wasm []byte
	var err error
	if p.Path != "" {
		wasm, err = os.ReadFile(p.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: read %s: %w", p.Name, p.Path, err)
		}
	} else if wasm, err = buildSource(ctx, p, cacheDir); err != nil {
		return nil, err
	}
	if p.SHA256 != "" {
		sum := sha256.Sum256(wasm)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, p.SHA256) {
			return nil, fmt.Errorf("plugin %q: sha256 of the module is %s, but the config pins %s", p.Name, got, p.SHA256)
		}
	}
	return wasm, nil
}

// buildSource builds a plugin source directory (see package toolchain).
func buildSource(ctx context.Context, p config.Plugin, cacheDir string) ([]byte, error) {
	hash, err := toolchain.Hash(p.Source)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: read source %s: %w", p.Name, p.Source, err)
	}
	out := filepath.Join(cacheDir, "build-"+hash+".wasm")
	if wasm, err := os.ReadFile(out); err == nil {
		return wasm, nil
	}
	if err := privateDir(cacheDir); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	tmp := out + ".tmp"
	if _, err := toolchain.Build(ctx, p.Source, tmp); err != nil {
		if errors.Is(err, toolchain.ErrNoToolchain) {
			return nil, fmt.Errorf("plugin %q: %w; or build the module elsewhere (gateway plugin build) and use path", p.Name, err)
		}
		return nil, fmt.Errorf("plugin %q: building %s failed: %w", p.Name, p.Source, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	return os.ReadFile(out)
}

// buildCacheDir returns the directory source builds are cached in:
// <dataDir>/plugin-builds, or with no data directory (storage.memory)
// <user cache dir>/gateway/plugin-builds, never the shared temp directory,
// where another local user could read the modules or plant one.
func buildCacheDir(dataDir string) (string, error) {
	if dataDir != "" {
		return filepath.Join(dataDir, "plugin-builds"), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory for source builds: storage.memory is on, so storage.path is not used, and %w; set XDG_CACHE_HOME or HOME, or build the plugin (gateway plugin build) and use path", err)
	}
	return filepath.Join(base, "gateway", "plugin-builds"), nil
}

// privateDir creates dir, and its missing parents, readable by the
// gateway's user only (0700), and narrows dir to 0700 if it exists wider.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}
