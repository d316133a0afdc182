package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
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

// Managed-by values of a loaded plugin.
const (
	ManagedByConfig = "config"
	ManagedByAPI    = "api"
)

// KVStore opens a plugin's namespace in the key-value store.
type KVStore interface {
	PluginKV(plugin string, quota int64) (*store.PluginKV, error)
}

// Set is the loaded plugins of one moment: the config's, then the API's.
// A Set never changes after it is built; the Manager swaps whole Sets. It is
// safe for concurrent use.
type Set struct {
	loaded     []*loaded
	pipeline   *pipeline.Pipeline
	transforms map[string]pipeline.Stage
	ingest     *pipeline.Pipeline
}

// loaded is one loaded plugin.
type loaded struct {
	cfg       config.Plugin
	managedBy string
	wasm      []byte
	plugin    *wasmhost.Plugin
	stage     pipeline.Stage
}

// newSet builds the pipelines of ls, which are in run order. A transform
// without event types is per-webhook only: pipeline.New leaves it out.
func newSet(ls []*loaded) (*Set, error) {
	s := &Set{loaded: ls, transforms: make(map[string]pipeline.Stage)}
	var stages, ingest []pipeline.Stage
	for _, l := range ls {
		switch {
		case l.plugin.Kind() == abi.KindFilter && l.cfg.Stage == "ingest":
			ingest = append(ingest, l.stage)
		case l.plugin.Kind() != abi.KindObserver:
			stages = append(stages, l.stage)
		}
		if l.plugin.Kind() == abi.KindTransform {
			s.transforms[l.cfg.Name] = l.stage
		}
	}
	var err error
	if s.pipeline, err = pipeline.New(stages); err == nil {
		s.ingest, err = pipeline.New(ingest)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// find returns the plugin called name, or nil.
func (s *Set) find(name string) *loaded {
	if s == nil {
		return nil
	}
	for _, l := range s.loaded {
		if l.cfg.Name == name {
			return l
		}
	}
	return nil
}

// observes reports whether an observer of s matches events of type typ.
func (s *Set) observes(typ string) bool {
	for _, l := range s.loaded {
		if l.plugin.Kind() == abi.KindObserver && l.stage.Patterns.Match(typ) {
			return true
		}
	}
	return false
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

// load loads one plugin from its module bytes: compile, validate and
// pre-warm one instance. Nothing is swapped in here.
func (m *Manager) load(ctx context.Context, pc config.Plugin, wasm []byte, managedBy string) (*loaded, error) {
	patterns, _, err := event.ParsePatterns(pc.EventTypes)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", pc.Name, err)
	}
	pkv, err := m.store.PluginKV(pc.Name, kvBytes(pc.Limits.KVBytes))
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", pc.Name, err)
	}
	p, err := m.runtime.Load(ctx, spec(pc, wasm, pkv, m.logger))
	if err != nil {
		return nil, err
	}
	if pc.Stage == "ingest" && p.Kind() != abi.KindFilter {
		_ = p.Close(ctx)
		return nil, fmt.Errorf("plugin %q: stage ingest applies to filters only; this module is a %s", pc.Name, p.Kind())
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
	l := &loaded{cfg: pc, managedBy: managedBy, wasm: wasm, plugin: p}
	l.stage = pipeline.Stage{Name: pc.Name, Kind: p.Kind(), Patterns: patterns, OnError: onError, Plugin: adapter{m: m, name: pc.Name, p: p}}
	return l, nil
}

// Check checks a config plugin's module with rt as a start would load it,
// with the same limits, but creates no instance, so no guest code runs
// (wasmhost.Runtime.Check): what `gateway validate` does.
func Check(ctx context.Context, rt *wasmhost.Runtime, pc config.Plugin, wasm []byte) error {
	return rt.Check(ctx, spec(pc, wasm, nil, nil))
}

// spec is the wasmhost.Spec of a plugin.
func spec(pc config.Plugin, wasm []byte, kv wasmhost.KV, logger *slog.Logger) wasmhost.Spec {
	mem := pc.Limits.MemoryMiB
	if mem == 0 {
		mem = defaultMemoryMiB
	}
	return wasmhost.Spec{
		Name:   pc.Name,
		Wasm:   wasm,
		Kind:   abi.Kind(pc.Kind),
		Config: pc.Config,
		Limits: wasmhost.Limits{MemoryPages: uint32(mem) * 16, CallTimeout: pc.Limits.Timeout, PoolSize: pc.Limits.Instances},
		KV:     kv,
		Logger: logger,
	}
}

// adapter makes a wasmhost.Plugin a pipeline.Plugin. A call that finds its
// plugin closed, because a new version was swapped in and the old one
// drained between the caller reading the Set and calling, is retried on the
// plugin now loaded under the same name: a swap never turns into a plugin
// error.
type adapter struct {
	m    *Manager
	name string
	p    *wasmhost.Plugin
}

// retries bounds the ErrClosed retries; each needs a swap in between.
const retries = 3

func (a adapter) next(p *wasmhost.Plugin, err error) *wasmhost.Plugin {
	if !errors.Is(err, wasmhost.ErrClosed) || a.m == nil {
		return nil
	}
	if l := a.m.Current().find(a.name); l != nil && l.plugin != p {
		return l.plugin
	}
	return nil
}

// call runs f on the adapter's plugin, and again on its successor after a
// swap (see adapter).
func call[T any](a adapter, f func(*wasmhost.Plugin) (T, error)) (T, error) {
	p := a.p
	for i := 0; ; i++ {
		r, err := f(p)
		if np := a.next(p, err); np != nil && i < retries {
			p = np
			continue
		}
		return r, err
	}
}

func (a adapter) Filter(ctx context.Context, meta abi.Meta, data []byte) (int32, string, error) {
	r, err := call(a, func(p *wasmhost.Plugin) (wasmhost.FilterResult, error) { return p.Filter(ctx, meta, data) })
	return int32(r.Verdict), r.Reason, err
}

func (a adapter) Transform(ctx context.Context, meta abi.Meta, data []byte) (int32, []byte, error) {
	r, err := call(a, func(p *wasmhost.Plugin) (wasmhost.TransformResult, error) { return p.Transform(ctx, meta, data) })
	return int32(r.Action), r.Output, err
}

func (a adapter) Observe(ctx context.Context, meta abi.Meta, data []byte) error {
	_, err := call(a, func(p *wasmhost.Plugin) (struct{}, error) { return struct{}{}, p.Observe(ctx, meta, data) })
	return err
}
