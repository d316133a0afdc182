package toolchain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	csdk "github.com/eventgw/gateway/sdk/c"
)

// Lang is a plugin source language.
type Lang string

// The languages Build knows.
const (
	Go             Lang = "go"
	C              Lang = "c"
	AssemblyScript Lang = "assemblyscript"
)

// Errors Build and Detect wrap.
var (
	// ErrNoSource: the directory holds no plugin sources of a known
	// language.
	ErrNoSource = errors.New("no plugin sources: want Go files (package main), C files (*.c, in the directory or src/), or an AssemblyScript project (package.json and assembly/index.ts)")
	// ErrNoToolchain: the language's compiler is not installed.
	ErrNoToolchain = errors.New("toolchain missing")
)

// ClangFlags are the flags C plugins are built with (sdk/c/README.md).
var ClangFlags = []string{"--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-Wall"}

// ASEntry is an AssemblyScript project's entry file.
const ASEntry = "assembly/index.ts"

// Detect returns the language of the plugin sources in dir: an
// AssemblyScript project when it has a package.json, else C when it has .c
// files (in dir or dir/src), else Go when it has non-test .go files.
func Detect(dir string) (Lang, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no such directory: %s", dir)
	}
	if err != nil {
		return "", err
	}
	hasGo := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case name == "package.json":
			return AssemblyScript, nil
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			hasGo = true
		}
	}
	if len(cSources(dir)) > 0 {
		return C, nil
	}
	if hasGo {
		return Go, nil
	}
	return "", fmt.Errorf("%s: %w", dir, ErrNoSource)
}

// Build compiles the plugin in dir into the module file out and returns the
// language it used. The compiler's output is part of the error when it
// fails.
func Build(ctx context.Context, dir, out string) (Lang, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if out, err = filepath.Abs(out); err != nil {
		return "", err
	}
	lang, err := Detect(dir)
	if err != nil {
		return "", err
	}
	switch lang {
	case Go:
		err = buildGo(ctx, dir, out)
	case C:
		err = buildC(ctx, dir, out)
	case AssemblyScript:
		err = buildAS(ctx, dir, out)
	}
	if err != nil {
		return lang, fmt.Errorf("%s plugin in %s: %w", lang, dir, err)
	}
	return lang, nil
}

func buildGo(ctx context.Context, dir, out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("%w: no go on PATH (https://go.dev/dl)", ErrNoToolchain)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	return run(cmd)
}

// cSources lists the .c files of dir and dir/src.
func cSources(dir string) []string {
	var srcs []string
	for _, d := range []string{dir, filepath.Join(dir, "src")} {
		m, _ := filepath.Glob(filepath.Join(d, "*.c"))
		srcs = append(srcs, m...)
	}
	return srcs
}

// buildC compiles every .c file of dir and dir/src into one module. The
// project's own gw.h wins; the SDK's copy is on the include path after it.
func buildC(ctx context.Context, dir, out string) error {
	clang, err := exec.LookPath("clang")
	if err != nil {
		return fmt.Errorf("%w: no clang on PATH (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)", ErrNoToolchain)
	}
	inc, err := os.MkdirTemp("", "gw-include-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(inc)
	if err := os.WriteFile(filepath.Join(inc, csdk.HeaderName), csdk.Header(), 0o644); err != nil {
		return err
	}
	args := slices.Clone(ClangFlags)
	args = append(args, "-I", dir, "-I", filepath.Join(dir, "src"), "-I", inc, "-o", out)
	args = append(args, cSources(dir)...)
	cmd := exec.CommandContext(ctx, clang, args...)
	cmd.Dir = dir
	if err := run(cmd); err != nil {
		return fmt.Errorf("%w\n(is the wasm32 toolchain complete? Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)", err)
	}
	return nil
}

// buildAS runs the project's own asc (installing the project's npm
// dependencies first when they are missing) on assembly/index.ts, with
// the project's asconfig.json, or the SDK's when the project has none.
func buildAS(ctx context.Context, dir, out string) error {
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ASEntry))); err != nil {
		return fmt.Errorf("the entry file %s is missing: %w", ASEntry, err)
	}
	asc := filepath.Join(dir, "node_modules", ".bin", "asc")
	if _, err := os.Stat(asc); err != nil || lockChanged(dir) {
		if err := npmInstall(ctx, dir); err != nil {
			return err
		}
	}
	args := []string{ASEntry, "--outFile", out}
	if _, err := os.Stat(filepath.Join(dir, "asconfig.json")); errors.Is(err, fs.ErrNotExist) {
		args = append(args, "--config", filepath.Join("node_modules", "eventgw-sdk", "asconfig.json"))
	}
	cmd := exec.CommandContext(ctx, asc, args...)
	cmd.Dir = dir
	return run(cmd)
}

// lockChanged reports whether the project's package-lock.json is newer than
// what npm last installed (node_modules/.package-lock.json): a compiler
// bump must not build with the old compiler.
func lockChanged(dir string) bool {
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false
	}
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	return err != nil || lock.ModTime().After(installed.ModTime())
}

// npmInstall installs a project's dependencies: npm ci when it has a
// lockfile, npm install (which writes one) when not. Both run with
// --ignore-scripts: no package's lifecycle script (preinstall, install,
// postinstall, prepare, the project's own or a dependency's) runs on the
// gateway's machine with the gateway's rights; asc and the SDK need none.
func npmInstall(ctx context.Context, dir string) error {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%w: node_modules/.bin/asc is missing and there is no npm on PATH to install it (Node.js 20 or later with npm: https://nodejs.org)", ErrNoToolchain)
	}
	verb := "install"
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		verb = "ci"
	}
	cmd := exec.CommandContext(ctx, npm, verb, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if err := run(cmd); err != nil {
		return fmt.Errorf("npm %s: %w", verb, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "asc")); err != nil {
		return fmt.Errorf("%w: npm %s did not install asc: add assemblyscript to the devDependencies of package.json", ErrNoToolchain, verb)
	}
	return nil
}

func run(cmd *exec.Cmd) error {
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, strings.TrimSpace(buf.String()))
	}
	return nil
}

// sourceFile reports whether a file name is part of a plugin's sources for
// Hash.
func sourceFile(name string) bool {
	switch filepath.Ext(name) {
	case ".go", ".c", ".h", ".ts":
		return true
	}
	switch name {
	case "go.mod", "go.sum", "package.json", "package-lock.json", "asconfig.json":
		return true
	}
	return false
}

// Hash returns a content hash of the plugin sources below dir: the names
// and contents of its Go, C and AssemblyScript files and their build files
// (go.mod, package.json, asconfig.json and lockfiles). Hidden directories,
// testdata and node_modules are skipped. Equal hashes mean a rebuild would
// compile the same sources.
func Hash(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if sourceFile(name) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("%s: %w", dir, ErrNoSource)
	}
	slices.Sort(files)
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
