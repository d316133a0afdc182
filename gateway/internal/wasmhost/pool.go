package wasmhost

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/eventgw/gateway/sdk/abi"
)

// maxSleep caps one WASI sleep; the call deadline bounds their sum.
const maxSleep = 10 * time.Millisecond

func cappedSleep(ns int64) {
	time.Sleep(min(time.Duration(ns), maxSleep))
}

// pool is a plugin's bounded set of instances: a semaphore of size tokens
// and a stack of idle instances. Every instance is either idle or held by a
// caller that holds a token, so there are never more than size instances.
type pool struct {
	p   *Plugin
	sem chan struct{}

	mu     sync.Mutex // guards idle and closed
	idle   []*instance
	closed bool

	live    atomic.Int32 // instances alive
	maxLive atomic.Int32 // high-water mark of live; tests read it
}

func newPool(p *Plugin, size int) *pool {
	return &pool{p: p, sem: make(chan struct{}, size)}
}

// acquire returns an instance for one call, waiting at most timeout for a
// token. It creates an instance when none is idle.
func (pl *pool) acquire(ctx context.Context, timeout time.Duration) (*instance, error) {
	select {
	case pl.sem <- struct{}{}:
	default:
		t := time.NewTimer(timeout)
		select {
		case pl.sem <- struct{}{}:
			t.Stop()
		case <-t.C:
			return nil, ErrBusy
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		<-pl.sem
		return nil, ErrClosed
	}
	if n := len(pl.idle); n > 0 {
		in := pl.idle[n-1]
		pl.idle[n-1] = nil
		pl.idle = pl.idle[:n-1]
		pl.mu.Unlock()
		return in, nil
	}
	pl.mu.Unlock()
	in, err := pl.p.newInstance(ctx)
	if err != nil {
		<-pl.sem
		return nil, err
	}
	in.bind(pl.p.kind)
	return in, nil
}

// release returns an instance taken with acquire; a broken one is closed.
func (pl *pool) release(ctx context.Context, in *instance, broken bool) {
	if !broken && !in.mod.IsClosed() {
		pl.mu.Lock()
		if !pl.closed {
			pl.idle = append(pl.idle, in)
			pl.mu.Unlock()
			<-pl.sem
			return
		}
		pl.mu.Unlock()
	}
	in.close(ctx)
	<-pl.sem
}

// put adds an instance that no caller holds (the one Load pre-warms).
func (pl *pool) put(in *instance) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.idle = append(pl.idle, in)
}

// close closes the idle instances; instances in use close on release.
func (pl *pool) close(ctx context.Context) {
	pl.mu.Lock()
	idle := pl.idle
	pl.idle, pl.closed = nil, true
	pl.mu.Unlock()
	for _, in := range idle {
		in.close(ctx)
	}
}

// instance is one module instance. It serves one call at a time.
type instance struct {
	p       *Plugin
	mod     api.Module
	alloc   api.Function
	handler api.Function
	stack   [4]uint64
	meta    []byte // reused meta JSON buffer
	st      callState
	closed  bool
	// reserved is what the instance holds of the Runtime's memory budget.
	reserved int64
}

// newInstance instantiates the plugin's module, running _initialize under
// initTimeout with a call state so the guest may log while it starts.
func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	in := &instance{p: p, reserved: int64(p.reservePages) * 65536}
	if !p.rt.budget.reserve(in.reserved) {
		b := &p.rt.budget
		return nil, fmt.Errorf("%w: an instance needs %d MiB; %d of %d MiB are reserved by live instances",
			ErrMemoryBudget, in.reserved>>20, b.used.Load()>>20, b.limit>>20)
	}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(abi.ExportInitialize).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(cappedSleep).
		WithRandSource(rand.Reader).
		WithEnv("GOGC", strconv.Itoa(p.limits.GOGC)).
		WithStdout(&lineWriter{p: p, stream: "stdout", level: slog.LevelInfo}).
		WithStderr(&lineWriter{p: p, stream: "stderr", level: slog.LevelWarn})
	in.st.p = p
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), initTimeout)
	defer cancel()
	mod, err := p.eng.rt.InstantiateModule(&stateCtx{ictx, &in.st}, p.cm, cfg)
	if err != nil {
		p.rt.budget.release(in.reserved)
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	if mod.IsClosed() {
		p.rt.budget.release(in.reserved)
		return nil, fmt.Errorf("instantiate: the module exited during %s", abi.ExportInitialize)
	}
	in.mod = mod
	in.alloc = mod.ExportedFunction(abi.ExportAlloc)
	n := p.pool.live.Add(1)
	for {
		m := p.pool.maxLive.Load()
		if n <= m || p.pool.maxLive.CompareAndSwap(m, n) {
			break
		}
	}
	return in, nil
}

// bind selects the handler of kind k.
func (in *instance) bind(k abi.Kind) {
	in.handler = in.mod.ExportedFunction(k.Export())
	in.st.kind = k
}

// guestKind calls gw_kind.
func (in *instance) guestKind(ctx context.Context) (abi.Kind, error) {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), initTimeout)
	defer cancel()
	fn := in.mod.ExportedFunction(abi.ExportKind)
	if err := fn.CallWithStack(&stateCtx{ictx, &in.st}, in.stack[:]); err != nil {
		return "", fmt.Errorf("%s: %w", abi.ExportKind, err)
	}
	c := api.DecodeI32(in.stack[0])
	k, ok := kindOfCode(c)
	if !ok {
		return "", fmt.Errorf("%s returned unknown kind code %d", abi.ExportKind, c)
	}
	return k, nil
}

func (in *instance) close(ctx context.Context) {
	if in.closed {
		return
	}
	in.closed = true
	_ = in.mod.Close(ctx)
	in.p.pool.live.Add(-1)
	in.p.rt.budget.release(in.reserved)
}

// errBadAlloc means gw_alloc returned 0 or a buffer outside memory.
var errBadAlloc = errors.New("gw_alloc failed")

// call writes meta and data into one gw_alloc buffer and runs the handler.
// A non-nil error means the instance must not be reused.
func (in *instance) call(ctx context.Context, data []byte) (int32, error) {
	ml, dl := uint32(len(in.meta)), uint32(len(data))
	in.stack[0] = api.EncodeI32(int32(ml + dl))
	if err := in.alloc.CallWithStack(ctx, in.stack[:]); err != nil {
		return 0, fmt.Errorf("%s: %w", abi.ExportAlloc, err)
	}
	ptr := api.DecodeU32(in.stack[0])
	if ptr == 0 { // the guest could not allocate: writing at 0 would corrupt its memory
		return 0, fmt.Errorf("%w: it returned 0 for %d bytes", errBadAlloc, ml+dl)
	}
	mem := in.mod.Memory()
	if uint64(ptr)+uint64(ml)+uint64(dl) > uint64(mem.Size()) || !mem.Write(ptr, in.meta) || !mem.Write(ptr+ml, data) {
		return 0, fmt.Errorf("%w: its buffer of %d bytes at %d is outside memory", errBadAlloc, ml+dl, ptr)
	}
	in.stack[0] = uint64(ptr)
	in.stack[1] = uint64(ml)
	in.stack[2] = uint64(ptr + ml)
	in.stack[3] = uint64(dl)
	if err := in.handler.CallWithStack(ctx, in.stack[:]); err != nil {
		return 0, err
	}
	return api.DecodeI32(in.stack[0]), nil
}

// callState is the per-call state the host functions reach through the
// context: the plugin, its kind, and what the guest set.
type callState struct {
	p         *Plugin
	kind      abi.Kind // empty while the instance starts
	output    []byte
	outputSet bool
	reason    string
}

type stateKey struct{}

// stateCtx carries a *callState; it costs one allocation per call where
// context.WithValue would cost the same plus an interface conversion.
type stateCtx struct {
	context.Context
	st *callState
}

func (c *stateCtx) Value(k any) any {
	if _, ok := k.(stateKey); ok {
		return c.st
	}
	return c.Context.Value(k)
}
