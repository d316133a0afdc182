package plugintest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/toolchain"
)

// builds caches one build per absolute plugin directory for the life of
// the test process.
var builds sync.Map // string -> *build

type build struct {
	once sync.Once
	wasm []byte
	err  error
}

// Build compiles the plugin in dir into a t.TempDir() and returns the
// module's bytes. It builds as `gateway plugin build` does: a Go plugin
// (package main using the SDK) with GOOS=wasip1 GOARCH=wasm go build
// -buildmode=c-shared, a C plugin (.c files) with clang and sdk/c/gw.h,
// an AssemblyScript project (package.json) with its own asc. The build runs
// once per directory per test process; later calls (and calls from
// parallel tests) share it, and a failed build fails every test that asks
// for it. The bytes are returned rather than a path because the first
// caller's temp directory goes away when its test ends.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("plugintest: build %s: %v", dir, err)
	}
	v, _ := builds.LoadOrStore(abs, &build{})
	b := v.(*build)
	b.once.Do(func() {
		out := filepath.Join(t.TempDir(), filepath.Base(abs)+".wasm")
		if _, b.err = toolchain.Build(context.Background(), abs, out); b.err == nil {
			b.wasm, b.err = os.ReadFile(out)
		}
	})
	if b.err != nil {
		t.Fatalf("plugintest: build: %v", b.err)
	}
	return b.wasm
}
