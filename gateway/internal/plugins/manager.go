package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/sdk/abi"
)

// Sentinel errors of the Manager's API operations.
var (
	// ErrNotFound: no plugin has that name.
	ErrNotFound = errors.New("plugins: no such plugin")
	// ErrManagedByConfig: the plugin comes from the config file, so the API
	// can neither replace nor delete it.
	ErrManagedByConfig = errors.New("plugins: plugin is managed by the config file")
	// ErrInvalid: the settings of an upload are invalid.
	ErrInvalid = errors.New("plugins: invalid plugin settings")
	// ErrLoad: the uploaded module failed to compile, validate or start; the
	// plugin that was loaded before, if any, keeps running.
	ErrLoad = errors.New("plugins: module failed to load")
	// ErrMemoryBudget: an instance (of an upload, a dry run or a call) does
	// not fit in plugin_limits.max_memory_mib now; it is worth retrying once
	// other instances close.
	ErrMemoryBudget = wasmhost.ErrMemoryBudget
)

// budgetHint is appended to start-up errors caused by the memory budget.
const budgetHint = "raise plugin_limits.max_memory_mib, or lower the plugins' limits.memory_mib or limits.instances"

// Store is what the Manager keeps in the store: the plugins' key-value
// namespaces and the plugins uploaded through the API.
type Store interface {
	KVStore
	SavePlugin(ctx context.Context, name string, settings, wasm []byte, replaced string, uses store.ModuleUses) error
	DeletePlugin(ctx context.Context, name, hash string, uses store.ModuleUses) error
	SavedPlugins(ctx context.Context, moduleHash func(settings []byte) (string, error)) ([]store.SavedPlugin, error)
}

// Options configure NewManager.
type Options struct {
	// Config is the config file's plugins, loaded first, in order.
	Config []config.Plugin
	// DataDir holds the compilation cache and source builds ("" keeps the
	// cache in memory and builds under the user's cache directory; see
	// buildCacheDir).
	DataDir string
	Store   Store
	Logger  *slog.Logger
	// MaxMemoryBytes is the memory budget of all plugin instances together
	// (plugin_limits.max_memory_mib; 0: none).
	MaxMemoryBytes int64
	// OnTimeout, if set, is told of every plugin call that ran past its
	// deadline (wasmhost.Options.OnTimeout): the audit trail.
	OnTimeout func(plugin string, kind abi.Kind, deadline time.Duration)
}

// Manager holds the current Set behind an atomic pointer and swaps it when
// plugins are uploaded or deleted through the API. Readers (the delivery
// engine per batch and attempt, the ingest handler per request, the observer
// dispatcher per bus batch) load the pointer and see a swap on their next
// call. Writers (Put, Delete) are serialised by mu; the new plugin is
// compiled, validated and pre-warmed before the swap, and the old one is
// retired after it, so calls in flight on it finish. It is safe for
// concurrent use.
type Manager struct {
	runtime *wasmhost.Runtime
	store   Store
	logger  *slog.Logger
	// maxMemory is Options.MaxMemoryBytes.
	maxMemory int64

	cur atomic.Pointer[Set]
	// mu serialises Put and Delete (and so swaps). Lock order: mu, then
	// obs.mu.
	mu  sync.Mutex
	obs observers
}

// NewManager loads the config's plugins, then the ones saved through the
// API (in name order). A config plugin that fails to load is an error and
// nothing stays loaded; a saved plugin that fails is logged and skipped, so
// a module that a new gateway version refuses does not stop the gateway.
// ctx bounds loading; the observers run until Close.
func NewManager(ctx context.Context, opts Options) (*Manager, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{
		StorageDir: opts.DataDir, Logger: logger, MaxMemoryBytes: opts.MaxMemoryBytes, OnTimeout: opts.OnTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	m := &Manager{runtime: rt, store: opts.Store, logger: logger, maxMemory: opts.MaxMemoryBytes}
	m.obs.init(m)
	buildDir, buildDirErr := buildCacheDir(opts.DataDir)
	var ls []*loaded
	fail := func(err error) (*Manager, error) {
		for _, l := range ls {
			_ = l.plugin.Close(ctx)
		}
		_ = rt.Close(ctx)
		return nil, err
	}
	for _, pc := range opts.Config {
		if pc.Source != "" && buildDirErr != nil {
			return fail(fmt.Errorf("plugin %q: %w", pc.Name, buildDirErr))
		}
		wasm, err := Module(ctx, pc, buildDir)
		if err != nil {
			return fail(err)
		}
		l, err := m.load(ctx, pc, wasm, ManagedByConfig)
		if errors.Is(err, ErrMemoryBudget) {
			return fail(fmt.Errorf("%w; %s", err, budgetHint))
		}
		if err != nil {
			return fail(err)
		}
		ls = append(ls, l)
	}
	saved, err := opts.Store.SavedPlugins(ctx, settingsHash)
	if err != nil {
		return fail(fmt.Errorf("plugins: %w", err))
	}
	for _, sp := range saved {
		if containsName(ls, sp.Name) {
			logger.Warn("plugin uploaded through the API is shadowed by the config file's plugin of the same name", "plugin", sp.Name)
			continue
		}
		pc, err := decodeSettings(sp.Settings)
		if err == nil {
			var l *loaded
			if l, err = m.load(ctx, pc, sp.Wasm, ManagedByAPI); err == nil {
				ls = append(ls, l)
				continue
			}
		}
		logger.Error("plugin uploaded through the API failed to load; skipped", "plugin", sp.Name, "err", err)
	}
	set, err := newSet(ls)
	if err != nil {
		return fail(err)
	}
	m.cur.Store(set)
	m.obs.sync(set)
	return m, nil
}

func containsName(ls []*loaded, name string) bool {
	for _, l := range ls {
		if l.cfg.Name == name {
			return true
		}
	}
	return false
}

// Current returns the Set in use now.
func (m *Manager) Current() *Set { return m.cur.Load() }

// Pipeline returns the current dispatch pipeline.
func (m *Manager) Pipeline() *pipeline.Pipeline { return m.Current().Pipeline() }

// Transform returns the current transform plugin called name.
func (m *Manager) Transform(name string) (pipeline.Stage, bool) { return m.Current().Transform(name) }

// IngestFilter runs the current stage: ingest filters on ev. A filter
// that failed under on_error: deny (v.Failed()) is logged at WARN with its
// name, since the producer only sees a 503.
func (m *Manager) IngestFilter(ctx context.Context, ev *event.Event) (bool, pipeline.Verdict) {
	denied, v := m.Current().IngestFilter(ctx, ev)
	if denied && v.Failed() {
		m.logger.Warn("ingest filter failed; event refused with 503 (on_error: deny)", "plugin", v.Plugin, "type", ev.Type, "err", v.Error)
	}
	return denied, v
}

// HasIngestFilters reports whether any stage: ingest filter is loaded now.
func (m *Manager) HasIngestFilters() bool { return !m.Current().ingest.Empty() }

// Put uploads a plugin: it loads wasm with settings (compile, validate,
// pre-warm), saves both, then swaps the new Set in and retires the plugin
// that had the name, if any. On any failure before the swap the old plugin
// keeps running.
func (m *Manager) Put(ctx context.Context, s Settings, wasm []byte) (Info, error) {
	pc, err := s.plugin()
	if err != nil {
		return Info{}, err
	}
	if mib := int64(pc.Limits.MemoryMiB); m.maxMemory > 0 && mib<<20 > m.maxMemory {
		// It could never start, so retrying (the 503 of ErrMemoryBudget) is no use.
		return Info{}, fmt.Errorf("%w: limits.memory_mib: %d is more than plugin_limits.max_memory_mib (%d), the budget of all plugin instances together", ErrInvalid, mib, m.maxMemory>>20)
	}
	settings, err := encodeSettings(s, wasm)
	if err != nil {
		return Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.Current()
	old := cur.find(pc.Name)
	if old != nil && old.managedBy == ManagedByConfig {
		return Info{}, fmt.Errorf("plugin %q: %w", pc.Name, ErrManagedByConfig)
	}
	l, err := m.load(ctx, pc, wasm, ManagedByAPI)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	ls := make([]*loaded, 0, len(cur.loaded)+1)
	for _, x := range cur.loaded {
		if x != old {
			ls = append(ls, x)
		} else {
			ls = append(ls, l) // a replacement keeps its place in the run order
		}
	}
	if old == nil {
		ls = append(ls, l)
	}
	next, err := newSet(ls)
	if err == nil {
		replaced := ""
		if old != nil {
			replaced = old.plugin.Hash()
		}
		err = m.store.SavePlugin(ctx, pc.Name, settings, wasm, replaced, usesModule)
	}
	if err != nil {
		_ = l.plugin.Close(ctx)
		return Info{}, fmt.Errorf("plugins: %w", err)
	}
	m.swap(next)
	if old != nil {
		old.plugin.Retire()
	}
	m.logger.Info("plugin loaded through the API", "plugin", pc.Name, "kind", l.plugin.Kind(), "sha256", l.plugin.Hash(), "replaced", old != nil)
	return info(l), nil
}

// Delete unloads a plugin uploaded through the API and forgets it. The
// caller checks that no webhook names it as its transform.
func (m *Manager) Delete(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.Current()
	old := cur.find(name)
	if old == nil {
		return fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	if old.managedBy == ManagedByConfig {
		return fmt.Errorf("plugin %q: %w", name, ErrManagedByConfig)
	}
	ls := make([]*loaded, 0, len(cur.loaded))
	for _, x := range cur.loaded {
		if x != old {
			ls = append(ls, x)
		}
	}
	next, err := newSet(ls)
	if err == nil {
		err = m.store.DeletePlugin(ctx, name, old.plugin.Hash(), usesModule)
	}
	if err != nil {
		return fmt.Errorf("plugins: %w", err)
	}
	m.swap(next)
	old.plugin.Retire()
	m.logger.Info("plugin deleted through the API", "plugin", name)
	return nil
}

// swap makes next current. mu is held.
func (m *Manager) swap(next *Set) {
	m.cur.Store(next)
	m.obs.sync(next)
}

// List describes the loaded plugins in run order.
func (m *Manager) List() []Info {
	cur := m.Current()
	out := make([]Info, len(cur.loaded))
	for i, l := range cur.loaded {
		out[i] = info(l)
	}
	return out
}

// Get describes the plugin called name.
func (m *Manager) Get(name string) (Info, bool) {
	l := m.Current().find(name)
	if l == nil {
		return Info{}, false
	}
	return info(l), true
}

// Close stops the observers and unloads every plugin and the runtime.
func (m *Manager) Close(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.obs.close()
	for _, l := range m.Current().loaded {
		_ = l.plugin.Close(ctx)
	}
	_ = m.runtime.Close(ctx)
}
