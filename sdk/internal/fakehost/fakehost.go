package fakehost

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/eventgw/gateway/sdk/abi"
)

// Guest is the plugin side of the fake: package sdk's registered handler.
type Guest interface {
	// Kind returns what gw_kind would.
	Kind() int32
	// Handle calls the handler export of kind with a meta document and
	// data, and returns the export's result and, for a negative result,
	// its cause.
	Handle(kind int32, meta, data []byte) (int32, error)
	// NewEvent returns the *sdk.Event a handler would get.
	NewEvent(meta, data []byte) (any, error)
}

var (
	guestMu sync.Mutex
	guest   Guest
)

// SetGuest binds the plugin side; package sdk calls it from init.
func SetGuest(g Guest) {
	guestMu.Lock()
	defer guestMu.Unlock()
	guest = g
}

// CurrentGuest returns the bound plugin side, or nil when package sdk is
// not linked in.
func CurrentGuest() Guest {
	guestMu.Lock()
	defer guestMu.Unlock()
	return guest
}

// Log is one captured log line.
type Log struct {
	Level int32
	Msg   string
}

// Result is what one Call produced.
type Result struct {
	Kind   int32  // the handler called
	Code   int32  // its return value
	Err    error  // the cause of a negative Code
	Reason string // from reason_set
	Output []byte // from output_set
	Logs   []Log  // logged during the call
}

type entry struct {
	val     []byte
	expires time.Time // zero: never
}

// Host is a fake gw_v1 host. The zero Host is not usable; call New.
type Host struct {
	callMu sync.Mutex // one Call at a time

	mu      sync.Mutex
	config  map[string]string
	kv      map[string]entry
	kvBytes int
	quota   int // 0: none
	logs    []Log
	metrics map[string]int64
	offset  time.Duration // added to the wall clock
	call    *Result       // the Call in progress, or nil
}

// Default is the host the SDK's native build calls.
var Default = New()

// New returns an empty host.
func New() *Host {
	h := &Host{}
	h.Reset()
	return h
}

// Reset empties the config, the KV store, the logs and the metrics, removes
// the quota and sets the clock back to the wall clock.
func (h *Host) Reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.config = map[string]string{}
	h.kv = map[string]entry{}
	h.kvBytes = 0
	h.quota = 0
	h.logs = nil
	h.metrics = map[string]int64{}
	h.offset = 0
}

// SetConfig sets a config value.
func (h *Host) SetConfig(key, val string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.config[key] = val
}

// SetKVQuota limits the KV store to n bytes of keys and values (0: no
// limit), as the gateway's per-plugin quota does.
func (h *Host) SetKVQuota(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.quota = n
}

// Advance moves the host's clock, which only KV expiry reads, forward by d.
func (h *Host) Advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.offset += d
}

func (h *Host) now() time.Time { return time.Now().Add(h.offset) }

// KV returns a copy of the live value at key.
func (h *Host) KV(key string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.live(key)
	if !ok {
		return nil, false
	}
	return bytes.Clone(e.val), true
}

// KVKeys returns the live keys, sorted.
func (h *Host) KVKeys() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var keys []string
	for k := range h.kv {
		if _, ok := h.live(k); ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Logs returns the lines logged since the last Reset.
func (h *Host) Logs() []Log {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.logs)
}

// Metrics returns the counters added since the last Reset.
func (h *Host) Metrics() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.metrics)
}

// Call runs the handler of kind on guest g, as the host runs one call on an
// instance.
func (h *Host) Call(g Guest, kind int32, meta, data []byte) Result {
	h.callMu.Lock()
	defer h.callMu.Unlock()

	h.mu.Lock()
	r := &Result{Kind: kind}
	h.call = r
	h.mu.Unlock()

	code, err := g.Handle(kind, meta, data)

	h.mu.Lock()
	defer h.mu.Unlock()
	h.call = nil
	r.Code, r.Err = code, err
	return *r
}

// The gw_v1 functions. They take Go values rather than pointers but keep
// the real host's limits and statuses.

// LogLine is log.
func (h *Host) LogLine(level int32, msg string) int32 {
	if level < abi.LevelDebug || level > abi.LevelError {
		return abi.StatusInvalid
	}
	if len(msg) > abi.MaxLogLineBytes {
		msg = msg[:abi.MaxLogLineBytes]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l := Log{Level: level, Msg: msg}
	h.logs = append(h.logs, l)
	if h.call != nil {
		h.call.Logs = append(h.call.Logs, l)
	}
	return abi.StatusOK
}

// ConfigGet is config_get: it copies the value into buf when it fits and
// returns its length.
func (h *Host) ConfigGet(key string, buf []byte) int32 {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.config[key]
	if !ok {
		return abi.StatusNotFound
	}
	if len(v) <= len(buf) {
		copy(buf, v)
	}
	return int32(len(v))
}

// KVGet is kv_get, with config_get's buffer protocol.
func (h *Host) KVGet(key string, buf []byte) int32 {
	if st := checkKey(key); st != abi.StatusOK {
		return st
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.live(key)
	if !ok {
		return abi.StatusNotFound
	}
	if len(e.val) <= len(buf) {
		copy(buf, e.val)
	}
	return int32(len(e.val))
}

// KVSet is kv_set.
func (h *Host) KVSet(key string, val []byte, ttlMs int64) int32 {
	if st := checkKey(key); st != abi.StatusOK {
		return st
	}
	if ttlMs < 0 {
		return abi.StatusInvalid
	}
	if len(val) > abi.MaxKVValueBytes {
		return abi.StatusTooLarge
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.put(key, bytes.Clone(val), ttlMs, true)
}

// KVDelete is kv_delete.
func (h *Host) KVDelete(key string) int32 {
	if st := checkKey(key); st != abi.StatusOK {
		return st
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.kv[key]; ok {
		h.kvBytes -= len(key) + len(e.val)
		delete(h.kv, key)
	}
	return abi.StatusOK
}

// KVIncr is kv_incr: the counter keeps the TTL it was created with.
func (h *Host) KVIncr(key string, delta, ttlMs int64) (int64, int32) {
	if st := checkKey(key); st != abi.StatusOK {
		return 0, st
	}
	if ttlMs < 0 {
		return 0, abi.StatusInvalid
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var n int64
	e, ok := h.live(key)
	if ok {
		if len(e.val) != 8 {
			return 0, abi.StatusInvalid
		}
		n = int64(binary.LittleEndian.Uint64(e.val))
	}
	n += delta
	val := binary.LittleEndian.AppendUint64(nil, uint64(n))
	if st := h.put(key, val, ttlMs, !ok); st != abi.StatusOK {
		return 0, st
	}
	return n, abi.StatusOK
}

// MetricAdd is metric_add.
func (h *Host) MetricAdd(name string, delta int64) int32 {
	if name == "" || len(name) > abi.MaxMetricName {
		return abi.StatusInvalid
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.metrics[name] += delta
	return abi.StatusOK
}

// OutputSet is output_set.
func (h *Host) OutputSet(b []byte) int32 {
	if len(b) > abi.MaxOutputBytes {
		return abi.StatusTooLarge
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.call == nil || h.call.Kind != abi.KindCodeTransform {
		return abi.StatusWrongKind
	}
	h.call.Output = bytes.Clone(b)
	return abi.StatusOK
}

// ReasonSet is reason_set.
func (h *Host) ReasonSet(reason string) int32 {
	if len(reason) > abi.MaxReasonBytes {
		return abi.StatusTooLarge
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.call == nil || h.call.Kind != abi.KindCodeFilter {
		return abi.StatusWrongKind
	}
	h.call.Reason = reason
	return abi.StatusOK
}

func checkKey(key string) int32 {
	if key == "" || len(key) > abi.MaxKVKeyBytes {
		return abi.StatusInvalid
	}
	return abi.StatusOK
}

// live returns the entry at key unless it has expired (and drops it then).
// h.mu is held.
func (h *Host) live(key string) (entry, bool) {
	e, ok := h.kv[key]
	if !ok {
		return entry{}, false
	}
	if !e.expires.IsZero() && !h.now().Before(e.expires) {
		h.kvBytes -= len(key) + len(e.val)
		delete(h.kv, key)
		return entry{}, false
	}
	return e, true
}

// put stores val at key, setting the expiry from ttlMs when setTTL (else
// keeping the old one). h.mu is held.
func (h *Host) put(key string, val []byte, ttlMs int64, setTTL bool) int32 {
	old, had := h.live(key)
	size := h.kvBytes + len(key) + len(val)
	if had {
		size -= len(key) + len(old.val)
	}
	if h.quota > 0 && size > h.quota {
		return abi.StatusQuota
	}
	e := entry{val: val, expires: old.expires}
	if setTTL {
		e.expires = time.Time{}
		if ttlMs > 0 {
			e.expires = h.now().Add(time.Duration(ttlMs) * time.Millisecond)
		}
	}
	h.kv[key] = e
	h.kvBytes = size
	return abi.StatusOK
}
