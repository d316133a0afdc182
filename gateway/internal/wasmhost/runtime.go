package wasmhost

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/eventgw/gateway/sdk/abi"
)

// wasiModule is the WASI import module name.
const wasiModule = wasi_snapshot_preview1.ModuleName

// Options configure NewRuntime.
type Options struct {
	// StorageDir is the gateway's storage directory; compiled code is cached
	// in its wasm-cache subdirectory. Empty keeps the cache in memory.
	StorageDir string
	// Logger is the default logger of plugins whose Spec has none
	// (default slog.Default()).
	Logger *slog.Logger
	// MaxMemoryBytes is the memory budget of every instance of every plugin
	// of the Runtime together (0: none). Each instance reserves its
	// Limits.MemoryPages before it is created and returns them when it
	// closes; one that does not fit is not created (ErrMemoryBudget).
	MaxMemoryBytes int64
	// OnTimeout, if set, is called once for every call that ran past its
	// deadline, with the plugin's name, its kind and the deadline; it feeds
	// the audit trail. It runs on the calling goroutine, so it must not
	// block for long.
	OnTimeout func(plugin string, kind abi.Kind, deadline time.Duration)
}

// Runtime owns the wazero runtimes, the compilation cache and the map of
// compiled modules. It is safe for concurrent use.
type Runtime struct {
	cache  wazero.CompilationCache
	logger *slog.Logger
	budget memoryBudget
	// onTimeout is Options.OnTimeout (nil: none).
	onTimeout func(plugin string, kind abi.Kind, deadline time.Duration)

	mu       sync.Mutex // guards the fields below
	closed   bool
	engines  map[engineKey]*engine
	compiled map[compileKey]*compiledEntry

	compiles atomic.Int64 // compilations done; tests read it
}

// engineKey is a limits class: the runtime-wide settings of wazero.
type engineKey struct {
	memoryPages   uint32
	noCloseOnDone bool
}

// engine is one wazero runtime with WASI and gw_v1 instantiated in it.
type engine struct {
	rt   wazero.Runtime
	wasi map[string]api.FunctionDefinition
}

type compileKey struct {
	hash [sha256.Size]byte
	eng  engineKey
}

// compiledEntry is a CompiledModule shared by every plugin loaded from the
// same bytes in the same limits class.
type compiledEntry struct {
	ready chan struct{} // closed when cm or err is set
	cm    wazero.CompiledModule
	err   error
	refs  int
}

// NewRuntime creates a Runtime. Close it to release every plugin.
func NewRuntime(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runtime{
		logger:    opts.Logger,
		budget:    memoryBudget{limit: opts.MaxMemoryBytes},
		onTimeout: opts.OnTimeout,
		engines:   make(map[engineKey]*engine),
		compiled:  make(map[compileKey]*compiledEntry),
	}
	if opts.StorageDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(filepath.Join(opts.StorageDir, "wasm-cache"))
		if err != nil {
			return nil, fmt.Errorf("wasmhost: compilation cache: %w", err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	return r, nil
}

// Close closes every plugin and runtime. Calls in flight fail.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	engines := r.engines
	r.engines = nil
	r.compiled = nil
	r.mu.Unlock()
	var errs []error
	for _, e := range engines {
		errs = append(errs, e.rt.Close(ctx))
	}
	errs = append(errs, r.cache.Close(ctx))
	return errors.Join(errs...)
}

// MemoryReserved returns the bytes the live instances have reserved from
// Options.MaxMemoryBytes.
func (r *Runtime) MemoryReserved() int64 { return r.budget.used.Load() }

// memoryBudget is the Runtime's memory budget: a counter of reserved bytes
// that reserve never lets pass limit. Reservations are lock-free, so an
// instance creation on one plugin never waits for another plugin's.
type memoryBudget struct {
	limit int64 // 0: no budget
	used  atomic.Int64
}

// reserve takes n bytes from the budget, or reports that they do not fit.
func (b *memoryBudget) reserve(n int64) bool {
	for {
		u := b.used.Load()
		if b.limit > 0 && u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *memoryBudget) release(n int64) { b.used.Add(-n) }

// engine returns the wazero runtime of a limits class, creating it with WASI
// and the gw_v1 host module on first use.
func (r *Runtime) engine(ctx context.Context, k engineKey) (*engine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("wasmhost: runtime closed")
	}
	if e := r.engines[k]; e != nil {
		return e, nil
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(r.cache).
		WithMemoryLimitPages(k.memoryPages).
		WithCloseOnContextDone(!k.noCloseOnDone).
		WithCoreFeatures(api.CoreFeaturesV2)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("wasmhost: instantiate wasi: %w", err)
	}
	if _, err := hostModule(rt).Instantiate(ctx); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("wasmhost: instantiate %s: %w", hostModuleName, err)
	}
	e := &engine{rt: rt, wasi: rt.Module(wasiModule).ExportedFunctionDefinitions()}
	r.engines[k] = e
	return e, nil
}

// compile returns the CompiledModule of bin in the limits class, compiling
// it only if no loaded plugin already holds it. Release it with release.
func (r *Runtime) compile(ctx context.Context, e *engine, k compileKey, bin []byte) (wazero.CompiledModule, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("wasmhost: runtime closed")
	}
	if ce := r.compiled[k]; ce != nil {
		ce.refs++
		r.mu.Unlock()
		<-ce.ready
		if ce.err != nil {
			r.release(ctx, k)
			return nil, ce.err
		}
		return ce.cm, nil
	}
	ce := &compiledEntry{ready: make(chan struct{}), refs: 1}
	r.compiled[k] = ce
	r.mu.Unlock()

	r.compiles.Add(1)
	ce.cm, ce.err = r.compileGuarded(ctx, e, k.eng, bin)
	close(ce.ready)
	if ce.err != nil {
		r.release(ctx, k)
		return nil, ce.err
	}
	return ce.cm, nil
}

// compileGuarded compiles bin with the entry guard that makes deep
// recursion meet the deadline (see interrupt.go), unless the limits class
// turns the deadline guard off. A module the rewriter cannot read is
// compiled as is only to report wazero's own diagnosis; it never runs
// unguarded.
func (r *Runtime) compileGuarded(ctx context.Context, e *engine, k engineKey, bin []byte) (wazero.CompiledModule, error) {
	if k.noCloseOnDone {
		return e.rt.CompileModule(ctx, bin)
	}
	guarded, err := instrumentEntries(bin)
	if err != nil {
		cm, cerr := e.rt.CompileModule(ctx, bin)
		if cerr != nil {
			return nil, cerr
		}
		_ = cm.Close(ctx)
		return nil, fmt.Errorf("adding the deadline guard: %w", err)
	}
	return e.rt.CompileModule(ctx, guarded)
}

// release drops one reference to a compiled module, closing it with the
// last one. Instances made from it keep working (wazero allows closing a
// CompiledModule with live instances).
func (r *Runtime) release(ctx context.Context, k compileKey) {
	r.mu.Lock()
	ce := r.compiled[k]
	if ce == nil {
		r.mu.Unlock()
		return
	}
	ce.refs--
	if ce.refs > 0 {
		r.mu.Unlock()
		return
	}
	delete(r.compiled, k)
	r.mu.Unlock()
	if ce.cm != nil {
		_ = ce.cm.Close(ctx)
	}
}
