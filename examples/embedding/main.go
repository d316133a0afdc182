// Command embedding runs the gateway as a library inside another program:
// it builds a config with config.Load from an inline YAML file, adds an
// in-process subscriber with gateway.WithSubscriber, and serves the usual
// HTTP API until interrupted. Every event published to the API reaches the
// subscriber, which prints it.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/eventgw/gateway/gateway"
	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
)

// configYAML is the gateway's config. storage.path is filled in by run.
const configYAML = `
server:
  shutdown_timeout: 5s
storage:
  path: %s
log:
  level: warn
`

func main() {
	addr := "127.0.0.1:8081"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("gateway listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	if err := run(ctx, ln, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the gateway on ln until ctx ends. The in-process subscriber
// writes one line per event to out.
func run(ctx context.Context, ln net.Listener, out io.Writer) error {
	dir, err := os.MkdirTemp("", "embedding-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The config file a real program would ship; here it is written to a
	// temp dir so that config.Load validates it exactly as the CLI would.
	path := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(configYAML, filepath.Join(dir, "data"))
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(config.LoadOptions{File: path, FileRequired: true, Env: []string{}})
	if err != nil {
		return err
	}

	// A durable subscriber would resume from a saved cursor after a
	// restart; this one starts from the newest event each time.
	printer := func(ctx context.Context, events []event.Event) error {
		for _, e := range events {
			fmt.Fprintf(out, "subscriber got %s %s %s\n", e.ID, e.Type, e.Data)
		}
		return nil // an error would make the bus retry the batch
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g := gateway.New(cfg,
		gateway.WithListener(ln),
		gateway.WithLogger(logger),
		gateway.WithSubscriber("printer", []string{">"}, false, printer),
	)
	return g.Run(ctx)
}
