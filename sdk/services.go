package sdk

import (
	"fmt"
	"time"

	"github.com/eventgw/gateway/sdk/abi"
)

// Level is a log level.
type Level int32

// Log levels.
const (
	LevelDebug Level = Level(abi.LevelDebug)
	LevelInfo  Level = Level(abi.LevelInfo)
	LevelWarn  Level = Level(abi.LevelWarn)
	LevelError Level = Level(abi.LevelError)
)

// String returns "debug", "info", "warn" or "error".
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return fmt.Sprintf("level(%d)", int32(l))
}

// Log writes msg to the plugin's log at level. The gateway cuts lines
// longer than abi.MaxLogLineBytes and caps the log rate. What the plugin
// writes to stdout and stderr lands in the plugin's log too.
func Log(level Level, msg string) { hostLog(int32(level), msg) }

// Debug logs msg at LevelDebug.
func Debug(msg string) { Log(LevelDebug, msg) }

// Info logs msg at LevelInfo.
func Info(msg string) { Log(LevelInfo, msg) }

// Warn logs msg at LevelWarn.
func Warn(msg string) { Log(LevelWarn, msg) }

// Error logs msg at LevelError.
func Error(msg string) { Log(LevelError, msg) }

// Config returns the value of key in the plugin's config map (the
// plugin's config: section), and whether it is set. The config does not
// change during the life of a plugin version, so reading it once in init
// works in the gateway; but in native tests init runs before
// sdktest.SetConfig can set anything.
func Config(key string) (string, bool) {
	var stack [128]byte
	b, st := read(hostConfigGet, key, stack[:])
	if st < 0 {
		return "", false
	}
	return string(b), true
}

// KVGet returns the value of key in the plugin's KV store. ok is false when
// the key is missing or expired, and also when the host could not serve the
// call (that case is logged at warn).
func KVGet(key string) (val []byte, ok bool) {
	var stack [256]byte
	b, st := read(hostKVGet, key, stack[:])
	if st < 0 {
		if st != abi.StatusNotFound {
			Warn(fmt.Sprintf("sdk: kv_get %q: %v", key, statusError(st)))
		}
		return nil, false
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out, true
}

// read calls a config_get-style host function, growing the buffer while
// the value is longer than it (a KV value may grow between two calls).
func read(fn func(key string, buf []byte) int32, key string, buf []byte) ([]byte, int32) {
	for range 8 {
		n := fn(key, buf)
		if n < 0 {
			return nil, n
		}
		if int(n) <= len(buf) {
			return buf[:n], abi.StatusOK
		}
		buf = make([]byte, n)
	}
	return nil, abi.StatusUnavailable
}

// KVSet stores val under key in the plugin's KV store, which all instances
// of the plugin share. A ttl of 0 means no expiry; a ttl below a
// millisecond counts as one. Keys are at most abi.MaxKVKeyBytes and values
// at most abi.MaxKVValueBytes. The error is nil or one of ErrTooLarge,
// ErrQuota, ErrInvalid, ErrUnavailable.
func KVSet(key string, val []byte, ttl time.Duration) error {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return err
	}
	return statusError(hostKVSet(key, val, ms))
}

// KVDelete removes key from the plugin's KV store. Deleting a missing key
// is not an error.
func KVDelete(key string) error {
	if err := statusError(hostKVDelete(key)); err != ErrNotFound {
		return err
	}
	return nil
}

// KVIncr atomically adds delta to the counter at key (a missing counter
// counts as 0) and returns the new value. A ttl applies when the counter is
// created and is kept by later calls, so "at most N per minute" is
//
//	if sdk.KVIncr("card:"+card, 1, time.Minute) > N { ... }
//
// If the host can't serve the call, KVIncr logs the error at warn and
// returns 0, which fails open for such checks; use KVIncrErr to decide
// otherwise.
func KVIncr(key string, delta int64, ttl time.Duration) int64 {
	n, err := KVIncrErr(key, delta, ttl)
	if err != nil {
		Warn(fmt.Sprintf("sdk: kv_incr %q: %v", key, err))
		return 0
	}
	return n
}

// KVIncrErr is KVIncr returning the host's error (ErrInvalid when the value
// at key is not a counter, ErrQuota, ErrUnavailable).
func KVIncrErr(key string, delta int64, ttl time.Duration) (int64, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return 0, err
	}
	n, st := hostKVIncr(key, delta, ms)
	if err := statusError(st); err != nil {
		return 0, err
	}
	return n, nil
}

// MetricAdd adds delta to the plugin's counter name (at most
// abi.MaxMetricName bytes); the gateway exports it with the plugin's name
// as a label. Errors are dropped: a metric never fails a call.
func MetricAdd(name string, delta int64) { hostMetricAdd(name, delta) }

func ttlMillis(ttl time.Duration) (int64, error) {
	switch {
	case ttl < 0:
		return 0, fmt.Errorf("sdk: negative ttl %v: %w", ttl, ErrInvalid)
	case ttl == 0:
		return 0, nil
	case ttl < time.Millisecond:
		return 1, nil
	}
	return ttl.Milliseconds(), nil
}
