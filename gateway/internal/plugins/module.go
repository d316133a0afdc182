package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/eventgw/gateway/gateway/config"
)

// ErrNoToolchain means a plugin has a source directory but no Go toolchain
// is on PATH to build it.
var ErrNoToolchain = errors.New("plugins: no Go toolchain on PATH to build plugin sources")

// Module returns the WebAssembly bytes of a configured plugin: the file at
// path, or the result of building source with the local Go toolchain
// (cached under cacheDir by the source's content hash, so a restart does not
// rebuild). A sha256 pin is checked against the bytes either way.
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

// buildSource builds a Go plugin directory into a c-shared wasip1 module.
func buildSource(ctx context.Context, p config.Plugin, cacheDir string) ([]byte, error) {
	hash, err := hashDir(p.Source)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: read source %s: %w", p.Name, p.Source, err)
	}
	out := filepath.Join(cacheDir, "build-"+hash+".wasm")
	if wasm, err := os.ReadFile(out); err == nil {
		return wasm, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w; build it with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared and use path", p.Name, ErrNoToolchain)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	tmp := out + ".tmp"
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = p.Source
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("plugin %q: building %s failed: %w\n%s", p.Name, p.Source, err, strings.TrimSpace(string(msg)))
	}
	if err := os.Rename(tmp, out); err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	return os.ReadFile(out)
}

// hashDir hashes the names and contents of the Go sources, go.mod and go.sum
// below dir (hidden directories and testdata are skipped).
func hashDir(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no Go files in %s", dir)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
