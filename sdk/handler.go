package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/eventgw/gateway/sdk/abi"
)

// Verdict is a filter's decision. The zero Verdict allows the event.
type Verdict struct {
	code   int32
	reason string
}

// Allow lets the event through.
func Allow() Verdict { return Verdict{code: abi.Allow} }

// Deny stops the event; the gateway records reason (cut to
// abi.MaxReasonBytes) with the plugin's name.
func Deny(reason string) Verdict { return Verdict{code: abi.Deny, reason: reason} }

// Flag lets the event through and records reason (cut to
// abi.MaxReasonBytes).
func Flag(reason string) Verdict { return Verdict{code: abi.Flag, reason: reason} }

// String returns "allow", "flag: <reason>" or "deny: <reason>".
func (v Verdict) String() string {
	var s string
	switch v.code {
	case abi.Flag:
		s = "flag"
	case abi.Deny:
		s = "deny"
	default:
		return "allow"
	}
	if v.reason != "" {
		s += ": " + v.reason
	}
	return s
}

// registration is the plugin's one handler. It is written by init (inside
// _initialize in Wasm) and read by every call afterwards.
var registration struct {
	kind      abi.Kind
	filter    func(*Event) Verdict
	transform func(*Event) ([]byte, error)
	observe   func(*Event) error
}

// Filter registers fn as the plugin's handler: the plugin is a filter. Call
// it once, from init. It panics if fn is nil or a handler is already
// registered.
func Filter(fn func(e *Event) Verdict) {
	register(abi.KindFilter, fn == nil)
	registration.filter = fn
}

// Transform registers fn as the plugin's handler: the plugin is a
// transform. fn returns the new data (valid JSON, at most
// abi.MaxOutputBytes), nil and nil to keep the data unchanged, ErrDrop to
// drop the event, or another error to fail the call (the plugin's on_error
// policy then applies). Call it once, from init. It panics if fn is nil or a
// handler is already registered.
func Transform(fn func(e *Event) ([]byte, error)) {
	register(abi.KindTransform, fn == nil)
	registration.transform = fn
}

// Observe registers fn as the plugin's handler: the plugin is an observer.
// An error fails the call; it is logged and counted. Call it once, from
// init. It panics if fn is nil or a handler is already registered.
func Observe(fn func(e *Event) error) {
	register(abi.KindObserver, fn == nil)
	registration.observe = fn
}

func register(k abi.Kind, nilFn bool) {
	name := registerName(k)
	if nilFn {
		panic("sdk: " + name + " called with a nil handler")
	}
	if registration.kind != "" {
		panic(fmt.Sprintf("sdk: %s called, but a %s handler is already registered: a plugin registers exactly one handler, once, from init",
			name, registration.kind))
	}
	registration.kind = k
}

func registerName(k abi.Kind) string {
	switch k {
	case abi.KindFilter:
		return "sdk.Filter"
	case abi.KindTransform:
		return "sdk.Transform"
	}
	return "sdk.Observe"
}

// kindCode is what gw_kind returns.
func kindCode() int32 { return registration.kind.Code() }

// handle runs the registered handler for a call to the handler export of
// kind called, and returns the export's result. err is the cause of a
// negative result; handle has logged it already.
func handle(called int32, meta, data []byte) (int32, error) {
	if called != kindCode() {
		k, _ := abi.KindOf(called)
		err := fmt.Errorf("sdk: the host called the %s handler, but this plugin is a %s", k, registration.kind)
		if registration.kind == "" {
			err = fmt.Errorf("sdk: the host called the %s handler, but the plugin registered no handler (call sdk.Filter, sdk.Transform or sdk.Observe from init)", k)
		}
		logError(err)
		return abi.ResultWrongKind, err
	}
	e := &Event{data: data}
	if err := e.parseMeta(meta); err != nil {
		logError(err)
		return abi.ResultBadInput, err
	}
	switch called {
	case abi.KindCodeFilter:
		v := registration.filter(e)
		if v.code != abi.Flag && v.code != abi.Deny {
			return abi.Allow, nil
		}
		if v.reason != "" {
			if err := statusError(hostReasonSet(truncate(v.reason, abi.MaxReasonBytes))); err != nil {
				err = fmt.Errorf("sdk: reason_set: %w", err)
				logError(err)
				return abi.ResultFailed, err
			}
		}
		return v.code, nil
	case abi.KindCodeTransform:
		out, err := registration.transform(e)
		switch {
		case errors.Is(err, ErrDrop):
			return abi.Drop, nil
		case err != nil:
			err = fmt.Errorf("sdk: transform: %w", err)
			logError(err)
			return abi.ResultFailed, err
		case out == nil:
			return abi.Unchanged, nil
		case len(out) > abi.MaxOutputBytes:
			err = fmt.Errorf("sdk: transform output is %d bytes, over the %d limit: %w", len(out), abi.MaxOutputBytes, ErrTooLarge)
			logError(err)
			return abi.ResultFailed, err
		case !json.Valid(out):
			err = errors.New("sdk: transform output is not valid JSON")
			logError(err)
			return abi.ResultFailed, err
		}
		if err := statusError(hostOutputSet(out)); err != nil {
			err = fmt.Errorf("sdk: output_set: %w", err)
			logError(err)
			return abi.ResultFailed, err
		}
		return abi.Replaced, nil
	default: // abi.KindCodeObserver
		if err := registration.observe(e); err != nil {
			err = fmt.Errorf("sdk: observe: %w", err)
			logError(err)
			return abi.ResultFailed, err
		}
		return abi.ObserveOK, nil
	}
}

func logError(err error) { hostLog(int32(LevelError), err.Error()) }

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
