package toolchain

import (
	"context"
	"errors"
	"os"
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
