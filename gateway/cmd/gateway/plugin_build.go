package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/gateway/internal/toolchain"
)

func newPluginBuild(stdout io.Writer) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Build a plugin directory (Go, C or AssemblyScript) into a .wasm module",
		Long: `Build compiles the plugin in DIR with its language's toolchain, the same
build the gateway does for a plugin's source:, and prints the module's path,
size and sha256 (the value a plugins: entry can pin).

  Go              (.go files)    GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
  C               (.c files, in DIR or DIR/src)
                                 clang --target=wasm32-wasi -mexec-model=reactor -O2,
                                 with gw.h (the project's own, else the SDK's)
  AssemblyScript  (package.json) node_modules/.bin/asc assembly/index.ts with the
                                 project's asconfig.json; npm ci (or npm install)
                                 --ignore-scripts first when node_modules is missing`,
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
	if out == "" {
		out = filepath.Join(dir, filepath.Base(dir)+".wasm")
	}
	if out, err = filepath.Abs(out); err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	lang, err := toolchain.Build(ctx, dir, out)
	if err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return fmt.Errorf("plugin build: %w", err)
	}
	sum := sha256.Sum256(wasm)
	fmt.Fprintf(stdout, "%s\nlang:   %s\nsize:   %d bytes\nsha256: %s\n", out, lang, len(wasm), hex.EncodeToString(sum[:]))
	return nil
}
