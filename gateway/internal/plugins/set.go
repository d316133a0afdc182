package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/sdk/abi"
)

// Defaults for plugin limits the config leaves at zero.
const (
	defaultMemoryMiB = 16
	defaultKVBytes   = 16 << 20
	// observerQueue bounds each observer's queue; what does not fit is
	// dropped and counted.
	observerQueue = 1024
)

// KVStore opens a plugin's namespace in the key-value store.
type KVStore interface {
	PluginKV(plugin string, quota int64) (*store.PluginKV, error)
}

// Set is the loaded plugins of one configuration.
type Set struct {
	runtime    *wasmhost.Runtime
	loaded     []*loaded
	pipeline   *pipeline.Pipeline
	transforms map[string]pipeline.Stage
	ingest     *pipeline.Pipeline
	logger     *slog.Logger
}

type loaded struct {
	cfg    config.Plugin
	plugin *wasmhost.Plugin
	stage  pipeline.Stage
}

// Load resolves, validates and loads every plugin of cfg. dataDir holds the
// compilation cache and source builds ("" keeps the cache in memory). Any
// failure is returned, naming the plugin, and nothing stays loaded.
func Load(ctx context.Context, plugins []config.Plugin, dataDir string, kv KVStore, logger *slog.Logger) (*Set, error) {
	s := &Set{transforms: make(map[string]pipeline.Stage), logger: logger}
	if len(plugins) == 0 {
		return s, nil
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{StorageDir: dataDir, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	s.runtime = rt
	buildDir := filepath.Join(dataDir, "plugin-builds")
	if dataDir == "" {
		buildDir = filepath.Join(os.TempDir(), "gateway-plugin-builds")
	}
	var stages, ingest []pipeline.Stage
	for _, pc := range plugins {
		l, err := s.load(ctx, pc, buildDir, kv, logger)
		if err != nil {
			s.Close(ctx)
			return nil, err
		}
		s.loaded = append(s.loaded, l)
		switch {
		case l.plugin.Kind() == abi.KindFilter && pc.Stage == "ingest":
			ingest = append(ingest, l.stage)
		case l.plugin.Kind() == abi.KindTransform && len(pc.EventTypes) == 0:
			s.transforms[pc.Name] = l.stage
		case l.plugin.Kind() != abi.KindObserver:
			stages = append(stages, l.stage)
		}
		if l.plugin.Kind() == abi.KindTransform {
			s.transforms[pc.Name] = l.stage
		}
	}
	if s.pipeline, err = pipeline.New(stages); err == nil {
		s.ingest, err = pipeline.New(ingest)
	}
	if err != nil {
		s.Close(ctx)
		return nil, err
	}
	return s, nil
}

func (s *Set) load(ctx context.Context, pc config.Plugin, buildDir string, kv KVStore, logger *slog.Logger) (*loaded, error) {
	wasm, err := Module(ctx, pc, buildDir)
	if err != nil {
		return nil, err
	}
	quota := pc.Limits.KVBytes
	if quota == 0 {
		quota = defaultKVBytes
	}
	pkv, err := kv.PluginKV(pc.Name, quota)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", pc.Name, err)
	}
	mem := pc.Limits.MemoryMiB
	if mem == 0 {
		mem = defaultMemoryMiB
	}
	p, err := s.runtime.Load(ctx, wasmhost.Spec{
		Name:   pc.Name,
		Wasm:   wasm,
		Kind:   abi.Kind(pc.Kind),
		Config: pc.Config,
		Limits: wasmhost.Limits{MemoryPages: uint32(mem) * 16, CallTimeout: pc.Limits.Timeout, PoolSize: pc.Limits.Instances},
		KV:     pkv,
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	patterns, _, err := event.ParsePatterns(pc.EventTypes)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", pc.Name, err)
	}
	if len(patterns) == 0 && p.Kind() != abi.KindTransform {
		patterns = event.Patterns{event.MustParsePattern(">")}
	}
	onError := pc.OnError
	if onError == "" && p.Kind() == abi.KindFilter {
		onError = pipeline.OnErrorAllow
	}
	if onError == "" && p.Kind() == abi.KindTransform {
		onError = pipeline.OnErrorPass
	}
	return &loaded{cfg: pc, plugin: p, stage: pipeline.Stage{Name: pc.Name, Kind: p.Kind(), Patterns: patterns, OnError: onError, Plugin: adapter{p}}}, nil
}

// Pipeline returns the dispatch pipeline (filters, then global transforms).
func (s *Set) Pipeline() *pipeline.Pipeline { return s.pipeline }

// Transform returns the transform plugin called name.
func (s *Set) Transform(name string) (pipeline.Stage, bool) {
	st, ok := s.transforms[name]
	return st, ok
}

// IngestFilter runs the stage: ingest filters on an event before it is
// stored. It returns the deny, if any.
func (s *Set) IngestFilter(ctx context.Context, ev *event.Event) (denied bool, v pipeline.Verdict) {
	if s.ingest.Empty() {
		return false, v
	}
	res := s.ingest.Run(ctx, ev)
	if res.Stopped {
		return true, res.Verdicts[len(res.Verdicts)-1]
	}
	return false, v
}

// Observers returns a bus subscription per observer plugin. Each hands
// events to its plugin from a bounded queue, asynchronously, and counts what
// it has to drop; it never slows the bus.
func (s *Set) Observers(ctx context.Context) []bus.Subscription {
	var subs []bus.Subscription
	for _, l := range s.loaded {
		if l.plugin.Kind() != abi.KindObserver {
			continue
		}
		o := newObserver(ctx, l.cfg.Name, l.plugin, s.logger)
		subs = append(subs, bus.Subscription{Name: "plugin:" + l.cfg.Name, Patterns: l.stage.Patterns, Subscriber: o})
	}
	return subs
}

// Close unloads every plugin and the runtime.
func (s *Set) Close(ctx context.Context) {
	for _, l := range s.loaded {
		_ = l.plugin.Close(ctx)
	}
	if s.runtime != nil {
		_ = s.runtime.Close(ctx)
	}
}

// adapter makes a wasmhost.Plugin a pipeline.Plugin.
type adapter struct{ p *wasmhost.Plugin }

func (a adapter) Filter(ctx context.Context, meta abi.Meta, data []byte) (int32, string, error) {
	r, err := a.p.Filter(ctx, meta, data)
	return int32(r.Verdict), r.Reason, err
}

func (a adapter) Transform(ctx context.Context, meta abi.Meta, data []byte) (int32, []byte, error) {
	r, err := a.p.Transform(ctx, meta, data)
	return int32(r.Action), r.Output, err
}

// observer feeds one observer plugin from a bounded queue.
type observer struct {
	name    string
	queue   chan event.Event
	dropped int64
	logger  *slog.Logger
}

func newObserver(ctx context.Context, name string, p *wasmhost.Plugin, logger *slog.Logger) *observer {
	o := &observer{name: name, queue: make(chan event.Event, observerQueue), logger: logger}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-o.queue:
				err := p.Observe(ctx, pipeline.Meta(&ev, ""), ev.Data)
				if err != nil && !errors.Is(err, context.Canceled) {
					logger.Warn("observer failed", "plugin", name, "event", ev.ID, "err", err)
				}
			}
		}
	}()
	return o
}

// Handle queues events without blocking; a full queue drops and counts.
func (o *observer) Handle(_ context.Context, events []event.Event) error {
	for _, ev := range events {
		select {
		case o.queue <- ev:
		default:
			o.dropped++
			if o.dropped == 1 || o.dropped%1000 == 0 {
				o.logger.Warn("observer queue full; events dropped for this observer", "plugin", o.name, "dropped_total", o.dropped)
			}
		}
	}
	return nil
}
