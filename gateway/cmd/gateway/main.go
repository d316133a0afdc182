package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/gateway"
	"github.com/eventgw/gateway/gateway/config"
)

func main() {
	if err := newRoot(os.Stdout, os.Stderr).Execute(); err != nil {
		// Cobra has printed usage errors; everything else is printed here.
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

const defaultConfigFile = "gateway.yaml"

// serveFlagKeys maps serve's flags to the config keys they override.
var serveFlagKeys = map[string]string{
	"addr":      "server.addr",
	"data":      "storage.path",
	"log-level": "log.level",
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "gateway",
		Short:         "A durable webhook and event gateway with WebAssembly plugins",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServe(stderr), newValidate(stdout), newVersion(stdout), newPlugin(stdout), newStore(stdout, stderr))
	return root
}

// loadConfig loads the config for cmd. A missing file is an error only when
// --config was given explicitly.
func loadConfig(cmd *cobra.Command, keys map[string]string) (*config.Config, error) {
	file, _ := cmd.Flags().GetString("config")
	return config.Load(config.LoadOptions{
		File:         file,
		FileRequired: cmd.Flags().Changed("config"),
		Flags:        cmd.Flags(),
		FlagKeys:     keys,
	})
}

func newServe(stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			cfg, err := loadConfig(cmd, serveFlagKeys)
			if err != nil {
				return configError(err)
			}
			if path, _ := cmd.Flags().GetString("cpuprofile"); path != "" {
				stopProfile, err := startCPUProfile(path)
				if err != nil {
					return err
				}
				defer func() {
					if perr := stopProfile(); err == nil {
						err = perr
					}
				}()
			}
			logger := newLogger(cfg, stderr)
			applyMemoryLimit(cfg.Server.MemoryLimit, os.Getenv, logger)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			defer ignoreHangup(logger)()
			opts := []gateway.Option{gateway.WithLogger(logger)}
			if accept, _ := cmd.Flags().GetBool("accept-data-loss"); accept {
				opts = append(opts, gateway.WithAcceptDataLoss())
			}
			return gateway.New(cfg, opts...).Run(ctx)
		},
	}
	cmd.Flags().String("config", defaultConfigFile, "YAML config file")
	cmd.Flags().String("addr", "", "listen address, overrides server.addr")
	cmd.Flags().String("data", "", "data directory, overrides storage.path")
	cmd.Flags().String("log-level", "", "debug, info, warn or error; overrides log.level")
	cmd.Flags().Bool("accept-data-loss", false, "start even though the store recovered fewer events than its integrity record says were committed; logs the gap as an ERROR and rewrites the record")
	cmd.Flags().String("cpuprofile", "", "write a CPU profile of the whole run to FILE, for go tool pprof (written when the gateway stops; off by default)")
	return cmd
}

// ignoreHangup catches SIGHUP until the returned stop is called, after the
// gateway has stopped. Process managers send it to mean "reload", and its
// default action would kill the gateway without closing Badger. Until
// reload exists, each one is logged as a warning and changes nothing.
func ignoreHangup(logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				logger.Warn("SIGHUP received: reload is not supported yet; the config is unchanged")
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func newValidate(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Load and check a config file and compile its plugins, listing every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file, _ := cmd.Flags().GetString("config")
			cfg, err := config.Load(config.LoadOptions{File: file, FileRequired: true})
			if err != nil {
				return configError(err)
			}
			if err := validatePlugins(cmd.Context(), cfg, stdout); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: valid (listen %s, storage %s, %d API keys, %d webhooks)\n",
				file, cfg.Server.Addr, storageDesc(cfg), len(cfg.Auth.APIKeys), len(cfg.Webhooks))
			return nil
		},
	}
	cmd.Flags().String("config", defaultConfigFile, "YAML config file")
	return cmd
}

func newVersion(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(stdout, "gateway", gateway.Version())
		},
	}
}

// configError formats a validation error as one problem per line.
func configError(err error) error {
	var verr *config.ValidationError
	if errors.As(err, &verr) {
		return fmt.Errorf("invalid config (%d problems):\n%w", len(verr.Problems), err)
	}
	return err
}

func storageDesc(cfg *config.Config) string {
	if cfg.Storage.Memory {
		return "in memory"
	}
	return cfg.Storage.Path
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
