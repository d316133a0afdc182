//go:build !wasip1

package sdk_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk"
)

// TestModuleFiles checks that ModuleFiles is the whole module: every go.mod
// and non-test Go file in this directory tree (outside nested modules,
// testdata and node_modules) with the same content, no tests, and that a
// copy of it lists the same packages and builds natively and for wasip1.
// It also checks that the module, tests included, needs nothing but the
// standard library.
func TestModuleFiles(t *testing.T) {
	files := sdk.ModuleFiles()
	var want []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); p != "." && err == nil {
				return fs.SkipDir // a module of its own (sdk/conformance)
			}
			return nil
		}
		if name == "go.mod" || strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			want = append(want, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		got, err := fs.ReadFile(files, p)
		if err != nil {
			t.Errorf("%s is not in ModuleFiles: add its package to the go:embed lines of source.go (%v)", p, err)
			continue
		}
		disk, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, disk) {
			t.Errorf("%s: ModuleFiles differs from the file", p)
		}
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "_test.go") {
			t.Errorf("ModuleFiles has the test %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.CopyFS(dir, files); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found on PATH: %v", err)
	}
	goCmd := func(dir string, env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{"GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off"}, env...)...)
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("go %v in %s: %v\n%s", args, dir, err, msg)
		}
		return string(out)
	}
	if got, want := goCmd(dir, nil, "list", "./..."), goCmd(".", nil, "list", "./..."); got != want {
		t.Errorf("the copy has the packages\n%s\nthe module\n%s", got, want)
	}
	goCmd(dir, nil, "build", "./...")
	goCmd(dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "./...")
	if mods := strings.Fields(goCmd(".", nil, "list", "-m", "all")); !slices.Equal(mods, []string{"github.com/eventgw/gateway/sdk"}) {
		t.Errorf("the SDK module needs %v, want the standard library only", mods)
	}
	deps := goCmd(".", nil, "list", "-deps", "-test", "-f", "{{if not .Standard}}{{with .Module}}{{.Path}} {{end}}{{end}}{{.ImportPath}}", "./...")
	for line := range strings.Lines(deps) {
		if mod, pkg, ok := strings.Cut(strings.TrimSpace(line), " "); ok && mod != "github.com/eventgw/gateway/sdk" {
			t.Errorf("the SDK module imports %s from %s: it must need the standard library only", pkg, mod)
		}
	}
}
