package wasmhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/toolchain"
)

// The guests these tests build from source (Go SDK sources, the C and
// AssemblyScript examples) are built with toolchain.Build, as `gateway plugin
// build` and gateway/plugintest build them (plugintest itself cannot be
// imported here: it imports this package), and once per test binary.

// guests caches one build per key for the life of the test binary.
var guests sync.Map // key -> *guest

type guest struct {
	once sync.Once
	wasm []byte
	err  error
}

// buildOnce runs build once per test binary for key and fails tb with its
// error. A missing toolchain is an error: it fails, never skips.
func buildOnce(tb testing.TB, key string, build func() ([]byte, error)) []byte {
	tb.Helper()
	v, _ := guests.LoadOrStore(key, &guest{})
	g := v.(*guest)
	g.once.Do(func() { g.wasm, g.err = build() })
	if g.err != nil {
		tb.Fatal(g.err)
	}
	return g.wasm
}

// buildDir builds the plugin in dir with toolchain.Build and returns the
// module's bytes.
func buildDir(dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "wasmhost-guest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "plugin.wasm")
	if _, err := toolchain.Build(context.Background(), dir, out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// goPlugin builds src, a Go SDK plugin's main.go, once per test binary, the
// way a plugin author does: in its own module requiring the SDK module,
// with a replace to this checkout's sdk/ (standard library only, so no
// go.sum).
func goPlugin(tb testing.TB, src string) []byte {
	tb.Helper()
	return buildOnce(tb, "go:"+src, func() ([]byte, error) {
		sdkDir, err := filepath.Abs("../../../sdk")
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "wasmhost-gomod-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		gomod := fmt.Sprintf("module example.test/bench\n\ngo 1.26\n\nrequire github.com/eventgw/gateway/sdk v0.0.0\n\nreplace github.com/eventgw/gateway/sdk => %s\n", filepath.ToSlash(sdkDir))
		files := map[string]string{"go.mod": gomod, "main.go": src}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				return nil, err
			}
		}
		return buildDir(dir)
	})
}
