package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/diskspace"
	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/plugins"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/sdk/abi"
)

// maxModuleBytes caps a plugin module uploaded with PUT /v1/plugins/{name}.
const maxModuleBytes = 32 << 20

// Gateway is one running gateway.
type Gateway struct {
	cfg    *config.Config
	logger *slog.Logger
	extra  []bus.Subscription
	ln     net.Listener

	deliverer *delivery.Engine
	plugins   *plugins.Manager
	audit     *audit.Log
	space     *spaceWatch
	// statfs and spaceInterval replace the disk-space watcher's system
	// call and poll interval in tests (nil, 0: the real ones).
	statfs        func(dir string) (diskspace.Usage, error)
	spaceInterval time.Duration

	acceptDataLoss bool

	ready   atomic.Bool
	handler atomic.Pointer[http.Handler]
	addr    chan net.Addr
	started chan struct{}
	once    sync.Once
}

// Option customises a Gateway.
type Option func(*Gateway)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(g *Gateway) { g.logger = l } }

// WithAcceptDataLoss starts the gateway even when its store recovered fewer
// events than its integrity record says were committed (gateway serve
// --accept-data-loss). The gap is logged as an ERROR.
func WithAcceptDataLoss() Option { return func(g *Gateway) { g.acceptDataLoss = true } }

// WithListener serves on ln instead of listening on server.addr.
func WithListener(ln net.Listener) Option { return func(g *Gateway) { g.ln = ln } }

// WithSubscriber adds an in-process subscriber, for programs that embed the
// gateway. Durable subscribers resume after a restart from a cursor saved
// under name; see bus.Subscriber for the contract.
func WithSubscriber(name string, patterns []string, durable bool, s func(ctx context.Context, events []event.Event) error) Option {
	return func(g *Gateway) {
		ps, _, err := event.ParsePatterns(patterns)
		if err != nil {
			panic(fmt.Sprintf("gateway: WithSubscriber(%q): %v", name, err))
		}
		g.extra = append(g.extra, bus.Subscription{Name: "embed:" + name, Patterns: ps, Durable: durable, Subscriber: bus.SubscriberFunc(s)})
	}
}

// New returns a gateway for cfg, which must have come from config.Load (or
// passed cfg.Validate). Nothing starts until Run.
func New(cfg *config.Config, opts ...Option) *Gateway {
	g := &Gateway{cfg: cfg, logger: slog.Default(), addr: make(chan net.Addr, 1), started: make(chan struct{})}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Addr waits until the gateway listens and returns its address, or returns
// nil if ctx ends first.
func (g *Gateway) Addr(ctx context.Context) net.Addr {
	select {
	case a := <-g.addr:
		g.addr <- a
		return a
	case <-ctx.Done():
		return nil
	}
}

// Ready reports whether the gateway takes traffic: the store is open and it
// is not shutting down.
func (g *Gateway) Ready() bool { return g.ready.Load() }

// Run opens the store, applies the config's webhooks, starts the bus and
// serves HTTP until ctx ends. Then it stops accepting connections, lets
// in-flight requests finish (up to server.shutdown_timeout), stops the bus
// and closes the store cleanly.
func (g *Gateway) Run(ctx context.Context) (err error) {
	ran := false
	g.once.Do(func() { ran = true })
	if !ran {
		return errors.New("gateway: Run called twice")
	}
	srv, ln, err := g.listen()
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	g.addr <- ln.Addr()
	g.logger.Info("listening", "addr", ln.Addr().String(), "version", Version())

	st, b, err := g.start(ctx)
	if err != nil {
		_ = srv.Close()
		return err
	}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		sweep(sweepCtx, st, b, g.cfg.Delivery.Retention, g.logger)
	}()
	g.ready.Store(true)
	g.logger.Info("ready", "storage", g.storageDesc(), "sync", g.cfg.Storage.Sync, "webhooks", len(g.cfg.Webhooks), "auth", g.cfg.HasAuth())

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("gateway: serve: %w", err)
	}
	g.ready.Store(false)
	g.logger.Info("shutting down", "grace", g.cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Server.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		g.logger.Warn("in-flight requests did not finish in time; closing them", "err", serr)
		_ = srv.Close()
	}
	stopSweep()
	<-swept
	b.Close()
	g.deliverer.Close()
	g.plugins.Close(context.WithoutCancel(ctx))
	g.space.close()
	if cerr := st.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("gateway: close store: %w", cerr)
	}
	_ = g.audit.Close()
	g.logger.Info("stopped")
	return err
}

// listen creates the HTTP server. Until start swaps in the API, it answers
// /healthz with 200 and everything else with 503.
func (g *Gateway) listen() (*http.Server, net.Listener, error) {
	var starting http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/healthz" {
			_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"the gateway is starting"}}` + "\n"))
	})
	g.handler.Store(&starting)
	s := g.cfg.Server
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*g.handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       s.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(g.logger.Handler(), slog.LevelWarn),
	}
	ln := g.ln
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return nil, nil, fmt.Errorf("gateway: listen on %s: %w", s.Addr, err)
		}
	}
	return srv, ln, nil
}

// start opens the store, applies config webhooks, loads the plugins, starts
// the delivery engine and the bus, and swaps the API in.
func (g *Gateway) start(ctx context.Context) (*store.Store, *bus.Bus, error) {
	al, err := audit.Open(g.cfg.Audit.File, g.logger)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: %w", err)
	}
	g.audit = al
	space, err := g.watchSpace()
	if err != nil {
		_ = al.Close()
		return nil, nil, err
	}
	var b *bus.Bus
	st, err := store.Open(store.Options{
		Path:              g.cfg.Storage.Path,
		Memory:            g.cfg.Storage.Memory,
		Sync:              g.cfg.Storage.Sync,
		IdempotencyWindow: g.cfg.Ingest.IdempotencyWindow,
		Logger:            g.logger,
		OnCommit:          func() { b.Notify() },
		AcceptDataLoss:    g.acceptDataLoss,
		Space:             space.guard(),
	})
	if err != nil {
		space.close()
		_ = al.Close()
		return nil, nil, fmt.Errorf("gateway: %w", err)
	}
	b = bus.New(st, g.logger)
	fail := func(err error) (*store.Store, *bus.Bus, error) {
		b.Close()
		if g.deliverer != nil {
			g.deliverer.Close()
		}
		if g.plugins != nil {
			g.plugins.Close(context.WithoutCancel(ctx))
		}
		_ = st.Close()
		space.close()
		_ = al.Close()
		return nil, nil, err
	}
	if err := applyConfigWebhooks(ctx, st, g.cfg.Webhooks, g.cfg.Delivery.SecretOverlap, g.logger, time.Now); err != nil {
		return fail(err)
	}
	dataDir := ""
	if !g.cfg.Storage.Memory {
		dataDir = g.cfg.Storage.Path
	}
	pm, err := plugins.NewManager(ctx, plugins.Options{
		Config: g.cfg.Plugins, DataDir: dataDir, Store: st, Logger: g.logger,
		MaxMemoryBytes: int64(g.cfg.PluginLimits.MaxMemoryMiB) << 20,
		OnTimeout: func(plugin string, kind abi.Kind, deadline time.Duration) {
			al.PluginTimeout(plugin, string(kind), deadline)
		},
	})
	if err != nil {
		return fail(fmt.Errorf("gateway: %w", err))
	}
	g.plugins = pm
	deliverer, policy, err := newDeliverer(g.cfg, st, pm, al, g.logger)
	if err != nil {
		return fail(err)
	}
	if err := deliverer.Start(ctx); err != nil {
		return fail(fmt.Errorf("gateway: %w", err))
	}
	g.deliverer = deliverer
	subs := append(subscriptions(deliverer, pm), g.extra...)
	for _, sub := range subs {
		if err := b.Subscribe(sub); err != nil {
			return fail(fmt.Errorf("gateway: %w", err))
		}
	}
	if err := b.Start(ctx); err != nil {
		return fail(fmt.Errorf("gateway: %w", err))
	}
	var api http.Handler = httpapi.New(httpapi.Options{
		Appender:         st,
		Events:           st,
		Webhooks:         st,
		Progress:         b,
		Deliveries:       st,
		Control:          deliverer,
		CheckURL:         policy.CheckURL,
		SecretOverlap:    g.cfg.Delivery.SecretOverlap,
		IngestFilter:     pm.IngestFilter,
		HasIngestFilters: pm.HasIngestFilters,
		Plugins:          pluginRegistry{Manager: pm, engine: deliverer, logger: g.logger},
		PluginRunner:     pm,
		Backup:           backuper(g.cfg, st),
		MaxModuleBytes:   maxModuleBytes,
		Ready:            g.Ready,
		Space:            space.reporter(),
		Keys:             apiKeys(g.cfg),
		MaxBodyBytes:     g.cfg.Server.MaxBodyBytes,
		MaxBatchEvents:   g.cfg.Ingest.MaxBatchEvents,
		MaxJSONDepth:     g.cfg.Ingest.MaxJSONDepth,
		MaxPendingBytes:  g.cfg.Ingest.MaxPendingBytes,
		Version:          Version(),
		Logger:           g.logger,
		Audit:            al,
	})
	g.handler.Store(&api)
	g.space = space
	space.start()
	return st, b, nil
}

// backuper is the store for POST /v1/admin/backup, or nil in memory.
func backuper(cfg *config.Config, st *store.Store) httpapi.Backuper {
	if cfg.Storage.Memory {
		return nil
	}
	return st
}

func (g *Gateway) storageDesc() string {
	if g.cfg.Storage.Memory {
		return "memory"
	}
	return g.cfg.Storage.Path
}

func apiKeys(cfg *config.Config) []httpapi.Key {
	keys := make([]httpapi.Key, len(cfg.Auth.APIKeys))
	for i, k := range cfg.Auth.APIKeys {
		keys[i] = httpapi.Key{Name: k.Name, Secret: k.Key, Scopes: k.Scopes}
	}
	return keys
}

// Version returns the module version and VCS revision the binary was built
// from, as recorded by the Go toolchain.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "-dirty"
		}
	}
	return v
}
