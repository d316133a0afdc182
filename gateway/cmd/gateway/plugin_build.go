package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// errNoGoFiles: plugin build found no Go plugin in the directory.
var errNoGoFiles = errors.New("no Go files: only Go plugins can be built for now; C and AssemblyScript toolchains are not supported yet (build those with clang or asc and use plugin run on the .wasm)")

func newPluginBuild(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Build a Go plugin directory into a .wasm module",
		Long: `Build runs GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared in DIR, the
same build the gateway does for a plugin's source:, and prints the module's
path, size and sha256 (the value a plugins: entry can pin).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginBuild(cmd.Context(), stdout, args[0], out)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default DIR/<dir name>.wasm)")
	return cmd
}

func pluginBuild(ctx context.Context, stdout io.Writer, dir, out string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("plugin build: no such directory: %s", dir)
	}
	if err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	hasGo := false
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			hasGo = true
		}
	}
	if !hasGo {
		return fmt.Errorf("plugin build: %s: %w", dir, errNoGoFiles)
	}
	if out == "" {
		out = filepath.Join(dir, filepath.Base(dir)+".wasm")
	}
	if out, err = filepath.Abs(out); err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("plugin build: no Go toolchain on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("plugin build: go build in %s: %w\n%s", dir, err, strings.TrimSpace(string(msg)))
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	sum := sha256.Sum256(wasm)
	fmt.Fprintf(stdout, "%s\nsize:   %d bytes\nsha256: %s\n", out, len(wasm), hex.EncodeToString(sum[:]))
	return nil
}
