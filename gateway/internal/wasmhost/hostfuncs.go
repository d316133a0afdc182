package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/sdk/abi"
)

const hostModuleName = abi.Module

// KV is the plugin key-value store the kv_* host functions use; one per
// plugin, shared by all its instances (store.PluginKV implements it). Get
// returns store.ErrNotFound for a missing key; store.ErrQuota,
// store.ErrKVTooLarge and store.ErrKVInvalid map to the matching statuses,
// any other error to StatusUnavailable. Implementations must be safe for
// concurrent use; Incr must be atomic.
type KV interface {
	Get(ctx context.Context, key []byte) ([]byte, error)
	Set(ctx context.Context, key, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key []byte) error
	Incr(ctx context.Context, key []byte, delta int64, ttl time.Duration) (int64, error)
}

var _ KV = (*store.PluginKV)(nil)

// maxMetricNames caps the distinct metric names one plugin may create.
const maxMetricNames = 64

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostSig is a gw_v1 function's signature.
type hostSig struct {
	params, results []api.ValueType
}

// hostFuncs lists the gw_v1 functions with their signatures, for the host
// module and for import validation.
var hostFuncs = map[string]struct {
	sig hostSig
	fn  api.GoModuleFunc
}{
	abi.FuncLog:       {hostSig{[]api.ValueType{i32, i32, i32}, nil}, hostLog},
	abi.FuncConfigGet: {hostSig{[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}}, hostConfigGet},
	abi.FuncKVGet:     {hostSig{[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}}, hostKVGet},
	abi.FuncKVSet:     {hostSig{[]api.ValueType{i32, i32, i32, i32, i64}, []api.ValueType{i32}}, hostKVSet},
	abi.FuncKVDelete:  {hostSig{[]api.ValueType{i32, i32}, []api.ValueType{i32}}, hostKVDelete},
	abi.FuncKVIncr:    {hostSig{[]api.ValueType{i32, i32, i64, i64, i32}, []api.ValueType{i32}}, hostKVIncr},
	abi.FuncMetricAdd: {hostSig{[]api.ValueType{i32, i32, i64}, []api.ValueType{i32}}, hostMetricAdd},
	abi.FuncOutputSet: {hostSig{[]api.ValueType{i32, i32}, []api.ValueType{i32}}, hostOutputSet},
	abi.FuncReasonSet: {hostSig{[]api.ValueType{i32, i32}, []api.ValueType{i32}}, hostReasonSet},
}

// hostModule builds the gw_v1 module. Every function is a stack-based
// GoModuleFunc: the reflective WithFunc costs about 18x more per call.
func hostModule(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(hostModuleName)
	for name, f := range hostFuncs {
		b.NewFunctionBuilder().
			WithGoModuleFunction(f.fn, f.sig.params, f.sig.results).
			WithName(name).
			Export(name)
	}
	return b
}

// oobError is the panic value of a host function given a pointer or length
// outside the guest's memory; wazero turns the panic into a trap.
type oobError struct {
	fn       string
	ptr, len uint32
}

func (e oobError) Error() string {
	return fmt.Sprintf("gw_v1.%s: range [%d, +%d) is outside guest memory", e.fn, e.ptr, e.len)
}

// read returns a view of guest memory, trapping when it is out of range.
func read(mod api.Module, fn string, ptr, n uint32) []byte {
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		panic(oobError{fn, ptr, n})
	}
	return b
}

// writeBuf is config_get and kv_get's reply: the value's length, and the
// value itself if it fits in buf_cap.
func writeBuf(mod api.Module, fn string, ptr, capacity uint32, v []byte) int32 {
	if capacity > 0 {
		buf := read(mod, fn, ptr, capacity)
		if len(v) <= len(buf) {
			copy(buf, v)
		}
	}
	return int32(len(v))
}

func state(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// kvStatus maps a KV error to a gw_v1 status.
func kvStatus(p *Plugin, fn string, err error) abi.Status {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return abi.StatusNotFound
	case errors.Is(err, store.ErrQuota):
		return abi.StatusQuota
	case errors.Is(err, store.ErrKVTooLarge):
		return abi.StatusTooLarge
	case errors.Is(err, store.ErrKVInvalid):
		return abi.StatusInvalid
	}
	p.logger.Warn("plugin kv unavailable", "func", fn, "err", err)
	return abi.StatusUnavailable
}

func ret(stack []uint64, s int32) { stack[0] = api.EncodeI32(s) }

func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level := api.DecodeI32(stack[0])
	msg := read(mod, abi.FuncLog, api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
	st := state(ctx)
	if st == nil {
		return
	}
	var l slog.Level
	switch level {
	case abi.LevelDebug:
		l = slog.LevelDebug
	case abi.LevelWarn:
		l = slog.LevelWarn
	case abi.LevelError:
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	st.p.guestLog(ctx, l, "log", msg)
}

func hostConfigGet(ctx context.Context, mod api.Module, stack []uint64) {
	key := read(mod, abi.FuncConfigGet, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	ptr, capacity := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	st := state(ctx)
	if st == nil {
		ret(stack, abi.StatusUnavailable)
		return
	}
	v, ok := st.p.config[string(key)]
	if !ok {
		ret(stack, abi.StatusNotFound)
		return
	}
	ret(stack, writeBuf(mod, abi.FuncConfigGet, ptr, capacity, []byte(v)))
}

func hostKVGet(ctx context.Context, mod api.Module, stack []uint64) {
	key := read(mod, abi.FuncKVGet, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	ptr, capacity := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	if capacity > 0 {
		read(mod, abi.FuncKVGet, ptr, capacity) // trap before touching the store
	}
	st := state(ctx)
	if st == nil || st.p.kv == nil {
		ret(stack, abi.StatusUnavailable)
		return
	}
	v, err := st.p.kv.Get(ctx, key)
	if err != nil {
		ret(stack, kvStatus(st.p, abi.FuncKVGet, err))
		return
	}
	ret(stack, writeBuf(mod, abi.FuncKVGet, ptr, capacity, v))
}

func hostKVSet(ctx context.Context, mod api.Module, stack []uint64) {
	key := read(mod, abi.FuncKVSet, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	val := read(mod, abi.FuncKVSet, api.DecodeU32(stack[2]), api.DecodeU32(stack[3]))
	ttl := int64(stack[4])
	st := state(ctx)
	switch {
	case st == nil || st.p.kv == nil:
		ret(stack, abi.StatusUnavailable)
	case ttl < 0:
		ret(stack, abi.StatusInvalid)
	default:
		if err := st.p.kv.Set(ctx, key, val, time.Duration(ttl)*time.Millisecond); err != nil {
			ret(stack, kvStatus(st.p, abi.FuncKVSet, err))
			return
		}
		ret(stack, abi.StatusOK)
	}
}

func hostKVDelete(ctx context.Context, mod api.Module, stack []uint64) {
	key := read(mod, abi.FuncKVDelete, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	st := state(ctx)
	if st == nil || st.p.kv == nil {
		ret(stack, abi.StatusUnavailable)
		return
	}
	if err := st.p.kv.Delete(ctx, key); err != nil {
		ret(stack, kvStatus(st.p, abi.FuncKVDelete, err))
		return
	}
	ret(stack, abi.StatusOK)
}

func hostKVIncr(ctx context.Context, mod api.Module, stack []uint64) {
	key := read(mod, abi.FuncKVIncr, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	delta, ttl := int64(stack[2]), int64(stack[3])
	out := api.DecodeU32(stack[4])
	read(mod, abi.FuncKVIncr, out, 8) // trap before the increment, not after
	st := state(ctx)
	switch {
	case st == nil || st.p.kv == nil:
		ret(stack, abi.StatusUnavailable)
	case ttl < 0:
		ret(stack, abi.StatusInvalid)
	default:
		n, err := st.p.kv.Incr(ctx, key, delta, time.Duration(ttl)*time.Millisecond)
		if err != nil {
			ret(stack, kvStatus(st.p, abi.FuncKVIncr, err))
			return
		}
		mod.Memory().WriteUint64Le(out, uint64(n))
		ret(stack, abi.StatusOK)
	}
}

func hostMetricAdd(ctx context.Context, mod api.Module, stack []uint64) {
	name := read(mod, abi.FuncMetricAdd, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	delta := int64(stack[2])
	st := state(ctx)
	switch {
	case st == nil:
		ret(stack, abi.StatusUnavailable)
	case len(name) == 0 || len(name) > abi.MaxMetricName:
		ret(stack, abi.StatusInvalid)
	default:
		ret(stack, st.p.metricAdd(name, delta))
	}
}

func hostOutputSet(ctx context.Context, mod api.Module, stack []uint64) {
	b := read(mod, abi.FuncOutputSet, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	st := state(ctx)
	switch {
	case st == nil || st.kind != abi.KindTransform:
		ret(stack, abi.StatusWrongKind)
	case len(b) > abi.MaxOutputBytes:
		ret(stack, abi.StatusTooLarge)
	default:
		st.output = append(st.output[:0:0], b...)
		st.outputSet = true
		ret(stack, abi.StatusOK)
	}
}

func hostReasonSet(ctx context.Context, mod api.Module, stack []uint64) {
	b := read(mod, abi.FuncReasonSet, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	st := state(ctx)
	switch {
	case st == nil || st.kind != abi.KindFilter:
		ret(stack, abi.StatusWrongKind)
	case len(b) > abi.MaxReasonBytes:
		ret(stack, abi.StatusTooLarge)
	default:
		st.reason = string(b)
		ret(stack, abi.StatusOK)
	}
}
