package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builds caches one build per absolute plugin directory for the life of
// the test process.
var builds sync.Map // string -> *build

type build struct {
	once sync.Once
	wasm []byte
	err  error
}

// Build compiles the Go plugin in dir (package main using the SDK) with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, into a
// t.TempDir(), and returns the module's bytes. The build runs once per
// directory per test process; later calls (and calls from parallel tests)
// share it, and a failed build fails every test that asks for it. The
// bytes are returned rather than a path because the first caller's temp
// directory goes away when its test ends.
func Build(t testing.TB, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("plugintest: build %s: %v", dir, err)
	}
	v, _ := builds.LoadOrStore(abs, &build{})
	b := v.(*build)
	b.once.Do(func() { b.wasm, b.err = goBuild(abs, t.TempDir()) })
	if b.err != nil {
		t.Fatalf("plugintest: %v", b.err)
	}
	return b.wasm
}

func goBuild(dir, outDir string) ([]byte, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("build %s: no go tool: %w", dir, err)
	}
	out := filepath.Join(outDir, filepath.Base(dir)+".wasm")
	cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", dir, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", dir, err)
	}
	return b, nil
}
