package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/plugins"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
)

// checkPlugins reads the module of every plugin with a path, checks its
// sha256 pin, and compiles and checks it against gw_v1 as a start would,
// without running any guest code. It returns one problem per plugin that
// would fail, each naming the plugin and its file, and the number of
// plugins checked. Plugins with a source directory are built at start and
// are not built here.
func checkPlugins(ctx context.Context, cfg *config.Config, logger *slog.Logger) (problems []string, checked int, err error) {
	if len(cfg.Plugins) == 0 {
		return nil, 0, nil
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{Logger: logger})
	if err != nil {
		return nil, 0, err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	for i, pc := range cfg.Plugins {
		if pc.Path == "" {
			continue
		}
		prefix := fmt.Sprintf("plugins[%d] %q: ", i, pc.Name)
		trim := func(err error) string {
			return strings.TrimPrefix(err.Error(), fmt.Sprintf("plugin %q: ", pc.Name))
		}
		wasm, err := plugins.Module(ctx, pc, "")
		if err != nil {
			problems = append(problems, prefix+trim(err))
			continue
		}
		if err := plugins.Check(ctx, rt, pc, wasm); err != nil {
			problems = append(problems, prefix+pc.Path+": "+trim(err))
			continue
		}
		checked++
	}
	return problems, checked, nil
}

// validatePlugins runs checkPlugins for `gateway validate`: it reports the
// count to stdout, or every problem in one error.
func validatePlugins(ctx context.Context, cfg *config.Config, stdout io.Writer) error {
	problems, checked, err := checkPlugins(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("checking plugins: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid plugins (%d problems):\n%s", len(problems), strings.Join(problems, "\n"))
	}
	if checked > 0 {
		fmt.Fprintf(stdout, "%d plugins compiled and checked against gw_v1\n", checked)
	}
	return nil
}
