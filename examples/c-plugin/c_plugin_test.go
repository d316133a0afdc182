// Package cplugin is the c-plugin example's test: filter.c, a gateway
// filter written in C with sdk/c/gw.h, built with clang and run by a real
// gateway.
package cplugin

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// clangHint is how to install the C toolchain (sdk/c/README.md); .ci/run
// installs it. A missing toolchain fails the test: it is never skipped.
const clangHint = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"

// buildFilter compiles filter.c with the command README.md documents
// (plus -Wall -Wextra -Werror) and returns the absolute path of the module.
func buildFilter(t *testing.T) string {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Fatalf("C toolchain missing: clang not found on PATH: install it (%s); .ci/run does", clangHint)
	}
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk", "c"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "filter.wasm")
	cmd := exec.Command(clang, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
		"-Wall", "-Wextra", "-Werror", "-I", sdk, "-o", out, "filter.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build filter.c: %v\n%s\n(is the C toolchain complete? install: %s)", err, b, clangHint)
	}
	return out
}

// TestCPlugin builds filter.c, runs the example's gateway.yaml with the
// built module, publishes a blocked, a large and an ordinary order and
// checks each status and verdict.
func TestCPlugin(t *testing.T) {
	wasm := buildFilter(t)
	gw := gwtest.StartFile(t, "gateway.yaml", func(yaml string) string {
		if !strings.Contains(yaml, "path: filter.wasm") {
			t.Fatalf("gateway.yaml does not load path: filter.wasm:\n%s", yaml)
		}
		return strings.Replace(yaml, "path: filter.wasm", "path: "+wasm, 1)
	})

	gwtest.CheckOrderFilter(t, gw, "c-filter")
}
