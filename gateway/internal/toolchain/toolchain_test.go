package toolchain

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// write creates dir/name (and its directories) with body.
func write(t *testing.T, dir, name, body string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
}

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files []string
		want  Lang
	}{
		{"go", []string{"main.go", "main_test.go"}, Go},
		{"c at the top", []string{"filter.c", "filter_test.go"}, C},
		{"c in src", []string{"src/filter.c", "plugin_test.go"}, C},
		{"c beside go wins", []string{"filter.c", "helper.go"}, C},
		{"assemblyscript", []string{"package.json", "assembly/index.ts", "plugin_test.go"}, AssemblyScript},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				write(t, dir, f, "")
			}
			got, err := Detect(dir)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	dir := t.TempDir()
	write(t, dir, "main_test.go", "")
	write(t, dir, "README.md", "")
	_, err := Detect(dir)
	require.True(t, errors.Is(err, ErrNoSource), "tests only: %v", err)
	_, err = Detect(filepath.Join(dir, "nope"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "no such directory")
}

// TestBuild_C builds a C plugin without its own gw.h: the SDK's copy is on
// the include path, and the result is a wasm module.
func TestBuild_C(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "src/allow.c", "#include \"gw.h\"\nGW_FILTER(f) { return GW_ALLOW; }\n")
	out := filepath.Join(t.TempDir(), "allow.wasm")
	lang, err := Build(context.Background(), dir, out)
	require.NoError(t, err)
	require.Equal(t, C, lang)
	wasm, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "\x00asm", string(wasm[:4]))
}

// TestBuild_errors: a compiler's own message reaches the caller.
func TestBuild_errors(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.c", "int x = ;\n")
	_, err := Build(context.Background(), dir, filepath.Join(t.TempDir(), "x.wasm"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "c plugin in "+dir)
	require.Contains(t, err.Error(), "bad.c:1:9: error: expected expression")

	dir = t.TempDir()
	write(t, dir, "main.go", "package main\n\nfunc main() { undefined() }\n")
	write(t, dir, "go.mod", "module x\n\ngo 1.26\n")
	_, err = Build(context.Background(), dir, filepath.Join(t.TempDir(), "x.wasm"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "go plugin in "+dir)
	require.Contains(t, err.Error(), "undefined: undefined")

	dir = t.TempDir()
	write(t, dir, "package.json", "{}")
	_, err = Build(context.Background(), dir, filepath.Join(t.TempDir(), "x.wasm"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "the entry file assembly/index.ts is missing")
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "main.go", "package main")
	write(t, dir, "go.mod", "module x")
	a, err := Hash(dir)
	require.NoError(t, err)

	write(t, dir, "README.md", "docs do not count")
	write(t, dir, "testdata/x.go", "package x")
	write(t, dir, "node_modules/dep/index.ts", "installed packages do not count")
	b, err := Hash(dir)
	require.NoError(t, err)
	require.Equal(t, a, b)

	for _, f := range []string{"main.go", "src/gw.h", "assembly/index.ts", "asconfig.json", "package-lock.json"} {
		write(t, dir, f, "changed "+f)
		c, err := Hash(dir)
		require.NoError(t, err)
		require.True(t, c != b, "a change to %s must change the hash", f)
		b = c
	}

	_, err = Hash(t.TempDir())
	require.True(t, errors.Is(err, ErrNoSource), "%v", err)
}

// TestLockChanged: a lockfile newer than npm's record of the last install
// means the installed compiler may be stale.
func TestLockChanged(t *testing.T) {
	dir := t.TempDir()
	require.True(t, !lockChanged(dir), "no lockfile: nothing to compare")
	write(t, dir, "package-lock.json", "{}")
	require.True(t, lockChanged(dir), "never installed")
	write(t, dir, "node_modules/.package-lock.json", "{}")
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "package-lock.json"), old, old))
	require.True(t, !lockChanged(dir), "installed after the lockfile was written")
	require.NoError(t, os.Chtimes(filepath.Join(dir, "package-lock.json"), time.Now(), time.Now()))
	require.NoError(t, os.Chtimes(filepath.Join(dir, "node_modules", ".package-lock.json"), old, old))
	require.True(t, lockChanged(dir), "the lockfile changed after the install")
}

// TestBuild_npmIgnoresScripts: installing an AssemblyScript project's
// dependencies runs no package's lifecycle script, neither the project's
// own nor a dependency's, with npm install (no lockfile) and npm ci (issue
// 10, finding 9). The dependency is local, so no network is needed; the
// build then fails because nothing installs asc, which is expected here.
func TestBuild_npmIgnoresScripts(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatalf("npm not found: install Node.js 20 or later with npm; .ci/run does: %v", err)
	}
	t.Setenv("npm_config_cache", t.TempDir())
	t.Setenv("npm_config_offline", "true")
	marks := t.TempDir()
	script := func(name string) string {
		return `node -e \"require('fs').writeFileSync(require('path').join('` + filepath.ToSlash(marks) + `', '` + name + `'), 'ran')\"`
	}
	dir := t.TempDir()
	write(t, dir, "assembly/index.ts", "export function f(): i32 { return 0 }\n")
	write(t, dir, "package.json", `{"name":"p","version":"1.0.0","private":true,
  "scripts":{"preinstall":"`+script("root-preinstall")+`","postinstall":"`+script("root-postinstall")+`","prepare":"`+script("root-prepare")+`"},
  "dependencies":{"dep":"file:./dep"}}`)
	write(t, dir, "dep/package.json", `{"name":"dep","version":"1.0.0",
  "scripts":{"preinstall":"`+script("dep-preinstall")+`","install":"`+script("dep-install")+`","postinstall":"`+script("dep-postinstall")+`"}}`)
	for _, verb := range []string{"install", "ci"} {
		_, err := Build(context.Background(), dir, filepath.Join(t.TempDir(), "x.wasm"))
		require.ErrorIs(t, err, ErrNoToolchain)
		require.Contains(t, err.Error(), "npm "+verb+" did not install asc")
		ran, err := os.ReadDir(marks)
		require.NoError(t, err)
		for _, e := range ran {
			t.Errorf("npm %s ran the %s script", verb, e.Name())
			require.NoError(t, os.Remove(filepath.Join(marks, e.Name())))
		}
	}
}
