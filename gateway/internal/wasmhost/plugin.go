package wasmhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/eventgw/gateway/sdk/abi"
)

// Defaults of Limits.
const (
	DefaultMemoryPages       = 256 // 16 MiB: what a Go guest needs
	DefaultFilterTimeout     = 50 * time.Millisecond
	DefaultObserverTimeout   = 250 * time.Millisecond
	DefaultAcquireTimeout    = time.Second
	DefaultCrashLimit        = 5
	DefaultCrashCooldown     = 30 * time.Second
	DefaultLogLinesPerSecond = 100
	DefaultGOGC              = 50
)

// initTimeout bounds _initialize and gw_kind when an instance is created.
const initTimeout = 5 * time.Second

// crashWindow is the window CrashLimit counts crashes in.
const crashWindow = time.Minute

// Limits are one plugin's resource limits. Zero values take the defaults.
type Limits struct {
	// MemoryPages caps each instance's linear memory, in 64 KiB pages
	// (default 256 = 16 MiB). Modules that declare no maximum get this one.
	MemoryPages uint32
	// CallTimeout is the deadline of one call (default 50 ms for filters
	// and transforms, 250 ms for observers).
	CallTimeout time.Duration
	// PoolSize bounds the instances, and so the concurrent calls
	// (default GOMAXPROCS).
	PoolSize int
	// AcquireTimeout is how long a call waits for a free instance before
	// ErrBusy (default 1 s).
	AcquireTimeout time.Duration
	// CrashLimit crashes within a minute open the breaker (default 5) for
	// CrashCooldown (default 30 s).
	CrashLimit    int
	CrashCooldown time.Duration
	// LogLinesPerSecond caps guest log lines (default 100); the rest are
	// counted and dropped.
	LogLinesPerSecond int
	// GOGC is the only environment variable a guest sees (default 50).
	GOGC int

	// noCloseOnDone turns the deadline guard off; benchmarks measure its
	// cost with it.
	noCloseOnDone bool
}

func (l Limits) withDefaults(k abi.Kind) Limits {
	if l.MemoryPages == 0 {
		l.MemoryPages = DefaultMemoryPages
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = DefaultFilterTimeout
		if k == abi.KindObserver {
			l.CallTimeout = DefaultObserverTimeout
		}
	}
	if l.PoolSize <= 0 {
		l.PoolSize = max(1, runtime.GOMAXPROCS(0))
	}
	if l.AcquireTimeout <= 0 {
		l.AcquireTimeout = DefaultAcquireTimeout
	}
	if l.CrashLimit <= 0 {
		l.CrashLimit = DefaultCrashLimit
	}
	if l.CrashCooldown <= 0 {
		l.CrashCooldown = DefaultCrashCooldown
	}
	if l.LogLinesPerSecond <= 0 {
		l.LogLinesPerSecond = DefaultLogLinesPerSecond
	}
	if l.GOGC <= 0 {
		l.GOGC = DefaultGOGC
	}
	return l
}

// Spec is what Load needs to know about a plugin.
type Spec struct {
	Name string
	Wasm []byte
	// Kind is the declared kind; empty infers it from the exports.
	Kind   abi.Kind
	Config map[string]string
	Limits Limits
	// KV backs the kv_* functions; nil makes them return StatusUnavailable.
	KV KV
	// Logger receives the plugin's log lines (default: the Runtime's),
	// with a "plugin" attribute added.
	Logger *slog.Logger
}

// Plugin is a loaded plugin: a compiled module and its instance pool. It is
// safe for concurrent use.
type Plugin struct {
	name   string
	kind   abi.Kind
	hash   string
	limits Limits
	config map[string]string
	kv     KV
	logger *slog.Logger
	rt     *Runtime
	key    compileKey
	cm     wazero.CompiledModule
	eng    *engine
	pool   *pool
	// reservePages is what each instance reserves from the Runtime's
	// memory budget: Limits.MemoryPages, or the module's own smaller max.
	reservePages uint32

	logLimit logLimiter

	// life holds the in-flight call count and the retired/closed flags.
	life      atomic.Int64
	closeOnce sync.Once

	brk breaker

	metricsMu sync.Mutex
	metrics   map[string]int64

	stats struct{ calls, crashes, timeouts, busy, pluginErrors atomic.Int64 }
}

const (
	lifeRetired = int64(1) << 61
	lifeClosed  = int64(1) << 62
	lifeCount   = lifeRetired - 1
)

// Load compiles (or reuses), validates and pre-warms a plugin: it creates
// one instance, running _initialize and gw_kind, so a broken plugin fails
// here rather than on the first event.
func (r *Runtime) Load(ctx context.Context, spec Spec) (*Plugin, error) {
	c, err := r.check(ctx, spec)
	if err != nil {
		return nil, err
	}
	logger := spec.Logger
	if logger == nil {
		logger = r.logger
	}
	p := &Plugin{
		name:     spec.Name,
		hash:     hex.EncodeToString(c.key.hash[:]),
		limits:   c.lim,
		config:   maps.Clone(spec.Config),
		kv:       spec.KV,
		logger:   logger.With("plugin", spec.Name),
		rt:       r,
		key:      c.key,
		cm:       c.cm,
		eng:      c.eng,
		logLimit: logLimiter{perSec: c.lim.LogLinesPerSecond},
		metrics:  make(map[string]int64),
	}
	if len(c.kinds) == 1 {
		p.kind = c.kinds[0]
	}
	p.pool = newPool(p, c.lim.PoolSize)
	p.reservePages = c.lim.MemoryPages
	if max, ok := c.cm.ExportedMemories()[abi.ExportMemory].Max(); ok && max < p.reservePages {
		p.reservePages = max // the module can never grow past its own maximum
	}

	in, err := p.newInstance(ctx)
	if errors.Is(err, ErrMemoryBudget) {
		r.release(ctx, c.key)
		return nil, fmt.Errorf("plugin %q: %w", spec.Name, err)
	}
	if err != nil {
		r.release(ctx, c.key)
		return nil, loadError(spec.Name, []string{err.Error()})
	}
	if c.hasKind {
		k, err := in.guestKind(ctx)
		if err == nil && !slices.Contains(c.kinds, k) {
			err = fmt.Errorf("%s returned %q but the module exports no %q", abi.ExportKind, k, k.Export())
		}
		if err == nil && spec.Kind != "" && k != spec.Kind {
			err = fmt.Errorf("declared kind %q but %s returned %q", spec.Kind, abi.ExportKind, k)
		}
		if err != nil {
			in.close(ctx)
			r.release(ctx, c.key)
			return nil, loadError(spec.Name, []string{err.Error()})
		}
		p.kind = k
	}
	if spec.Limits.CallTimeout <= 0 {
		p.limits.CallTimeout = spec.Limits.withDefaults(p.kind).CallTimeout
	}
	in.bind(p.kind)
	p.pool.put(in)
	return p, nil
}

// Check compiles spec.Wasm and checks it against gw_v1 as Load does
// (the wasm magic, compilation, exports, imports, memory), but creates no
// instance, so no guest code runs: what `gateway validate` does for each
// configured plugin.
func (r *Runtime) Check(ctx context.Context, spec Spec) error {
	c, err := r.check(ctx, spec)
	if err != nil {
		return err
	}
	r.release(ctx, c.key)
	return nil
}

// checked is a compiled and validated module, holding a reference to its
// CompiledModule (release it with Runtime.release).
type checked struct {
	lim     Limits
	eng     *engine
	key     compileKey
	cm      wazero.CompiledModule
	kinds   []abi.Kind
	hasKind bool
}

// check is the part of Load before any instance: name, kind, magic,
// compile and validate.
func (r *Runtime) check(ctx context.Context, spec Spec) (checked, error) {
	var c checked
	if spec.Name == "" {
		return c, errors.New("wasmhost: plugin without a name")
	}
	switch spec.Kind {
	case "", abi.KindObserver, abi.KindFilter, abi.KindTransform:
	default:
		return c, loadError(spec.Name, []string{fmt.Sprintf("unknown kind %q", spec.Kind)})
	}
	if !bytes.HasPrefix(spec.Wasm, wasmMagic) {
		return c, loadError(spec.Name, []string{`not a WebAssembly module (it does not start with "\0asm")`})
	}
	c.lim = spec.Limits.withDefaults(spec.Kind)
	ek := engineKey{memoryPages: c.lim.MemoryPages, noCloseOnDone: c.lim.noCloseOnDone}
	var err error
	if c.eng, err = r.engine(ctx, ek); err != nil {
		return c, fmt.Errorf("plugin %q: %w", spec.Name, err)
	}
	c.key = compileKey{hash: sha256.Sum256(spec.Wasm), eng: ek}
	if c.cm, err = r.compile(ctx, c.eng, c.key, spec.Wasm); err != nil {
		return c, loadError(spec.Name, []string{"compile: " + err.Error()})
	}
	var problems []string
	c.kinds, c.hasKind, problems = validate(c.cm, c.eng, spec.Kind, c.lim.MemoryPages)
	if len(problems) > 0 {
		r.release(ctx, c.key)
		return c, loadError(spec.Name, problems)
	}
	return c, nil
}

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// Kind returns the plugin's kind.
func (p *Plugin) Kind() abi.Kind { return p.kind }

// Hash returns the hex sha256 of the plugin's module.
func (p *Plugin) Hash() string { return p.hash }

// Limits returns the plugin's limits with defaults applied.
func (p *Plugin) Limits() Limits { return p.limits }

// Metrics returns a copy of the counters the guest added with metric_add.
func (p *Plugin) Metrics() map[string]int64 {
	p.metricsMu.Lock()
	defer p.metricsMu.Unlock()
	return maps.Clone(p.metrics)
}

func (p *Plugin) metricAdd(name []byte, delta int64) abi.Status {
	p.metricsMu.Lock()
	defer p.metricsMu.Unlock()
	if _, ok := p.metrics[string(name)]; !ok && len(p.metrics) >= maxMetricNames {
		return abi.StatusQuota
	}
	p.metrics[string(name)] += delta
	return abi.StatusOK
}

// Stats are the host's counters for one plugin.
type Stats struct {
	Calls, Crashes, Timeouts, Busy, PluginErrors, LogsDropped int64
	// Instances is the number of live instances now.
	Instances int
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	return Stats{
		Calls:        p.stats.calls.Load(),
		Crashes:      p.stats.crashes.Load(),
		Timeouts:     p.stats.timeouts.Load(),
		Busy:         p.stats.busy.Load(),
		PluginErrors: p.stats.pluginErrors.Load(),
		LogsDropped:  p.logLimit.droppedTotal(),
		Instances:    int(p.pool.live.Load()),
	}
}

// begin registers an in-flight call, failing once the plugin is closed.
func (p *Plugin) begin() error {
	for {
		v := p.life.Load()
		if v&lifeClosed != 0 {
			return fmt.Errorf("plugin %q: %w", p.name, ErrClosed)
		}
		if p.life.CompareAndSwap(v, v+1) {
			return nil
		}
	}
}

// end unregisters a call, closing a retired plugin with its last call.
func (p *Plugin) end() {
	if v := p.life.Add(-1); v == lifeRetired {
		p.closeIfIdle()
	}
}

// Retire closes the plugin once no call is in flight: at once if idle,
// else when the last in-flight call returns. Calls may still start until
// then. Use it after swapping a new version in.
func (p *Plugin) Retire() {
	v := p.life.Or(lifeRetired)
	if v&lifeCount == 0 {
		p.closeIfIdle()
	}
}

func (p *Plugin) closeIfIdle() {
	if p.life.CompareAndSwap(lifeRetired, lifeRetired|lifeClosed) {
		p.shutdown(context.Background())
	}
}

// Close closes the plugin now: new calls fail with ErrClosed, idle
// instances are closed, and instances in use are closed when their call
// returns. It is safe to call more than once, and after Retire.
func (p *Plugin) Close(ctx context.Context) error {
	p.life.Or(lifeClosed)
	p.shutdown(ctx)
	return nil
}

func (p *Plugin) shutdown(ctx context.Context) {
	p.closeOnce.Do(func() {
		p.pool.close(ctx)
		p.rt.release(ctx, p.key)
	})
}

// breaker opens after too many crashes in crashWindow.
type breaker struct {
	openUntil atomic.Int64 // unix nanos; 0 when closed

	mu      sync.Mutex
	crashes []time.Time
}

func (b *breaker) isOpen(now time.Time) bool {
	u := b.openUntil.Load()
	return u != 0 && now.UnixNano() < u
}

// crash records a crash and reports whether it opened the breaker.
func (b *breaker) crash(now time.Time, limit int, cooldown time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := b.crashes[:0]
	for _, t := range b.crashes {
		if now.Sub(t) < crashWindow {
			keep = append(keep, t)
		}
	}
	b.crashes = append(keep, now)
	if len(b.crashes) < limit {
		return false
	}
	b.crashes = b.crashes[:0]
	b.openUntil.Store(now.Add(cooldown).UnixNano())
	return true
}

func (p *Plugin) recordCrash() {
	p.stats.crashes.Add(1)
	if p.brk.crash(time.Now(), p.limits.CrashLimit, p.limits.CrashCooldown) {
		p.logger.Error("plugin breaker open: too many crashes",
			"crashes", p.limits.CrashLimit, "window", crashWindow, "cooldown", p.limits.CrashCooldown)
	}
}
