package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/sys"

	"github.com/eventgw/gateway/sdk/abi"
)

// Errors a call returns, wrapped with the plugin's name and detail.
var (
	// ErrBusy: no instance became free within Limits.AcquireTimeout.
	ErrBusy = errors.New("wasmhost: all plugin instances busy")
	// ErrPluginBroken: the crash breaker is open.
	ErrPluginBroken = errors.New("wasmhost: plugin breaker open after repeated crashes")
	// ErrTimeout: the call ran past its deadline; the instance was discarded.
	ErrTimeout = errors.New("wasmhost: plugin call deadline exceeded")
	// ErrCrashed: the guest trapped or exited; the instance was discarded.
	ErrCrashed = errors.New("wasmhost: plugin crashed")
	// ErrPluginError: the guest returned a negative or unknown result, or
	// an output the host refuses. The instance is kept.
	ErrPluginError = errors.New("wasmhost: plugin error")
	// ErrClosed: the plugin was closed (or retired and drained).
	ErrClosed = errors.New("wasmhost: plugin closed")
	// ErrWrongKind: the method does not match the plugin's kind.
	ErrWrongKind = errors.New("wasmhost: wrong plugin kind")
	// ErrMemoryBudget: a new instance does not fit in the Runtime's memory
	// budget (Options.MaxMemoryBytes) now; like ErrBusy, it passes when
	// other instances close.
	ErrMemoryBudget = errors.New("wasmhost: plugin memory budget exhausted")
)

// Verdict is a filter's decision.
type Verdict int32

// Verdicts, the gw_filter results.
const (
	Allow = Verdict(abi.Allow)
	Flag  = Verdict(abi.Flag)
	Deny  = Verdict(abi.Deny)
)

func (v Verdict) String() string {
	switch v {
	case Allow:
		return "allow"
	case Flag:
		return "flag"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("verdict(%d)", int32(v))
}

// Action is what a transform did.
type Action int32

// Actions, the gw_transform results.
const (
	Unchanged = Action(abi.Unchanged)
	Replaced  = Action(abi.Replaced)
	Drop      = Action(abi.Drop)
)

func (a Action) String() string {
	switch a {
	case Unchanged:
		return "unchanged"
	case Replaced:
		return "replaced"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("action(%d)", int32(a))
}

// FilterResult is a filter's answer. Reason is what the guest passed to
// reason_set, if anything.
type FilterResult struct {
	Verdict Verdict
	Reason  string
}

// TransformResult is a transform's answer. Output is set, and valid JSON,
// when Action is Replaced.
type TransformResult struct {
	Action Action
	Output []byte
}

// Filter runs a filter plugin on one event.
func (p *Plugin) Filter(ctx context.Context, meta abi.Meta, data []byte) (FilterResult, error) {
	var res FilterResult
	err := p.do(ctx, abi.KindFilter, meta, data, func(rc int32, st *callState) error {
		switch rc {
		case abi.Allow, abi.Flag, abi.Deny:
			res = FilterResult{Verdict: Verdict(rc), Reason: st.reason}
			return nil
		}
		return p.resultError(abi.KindFilter, rc)
	})
	return res, err
}

// Transform runs a transform plugin on one event.
func (p *Plugin) Transform(ctx context.Context, meta abi.Meta, data []byte) (TransformResult, error) {
	var res TransformResult
	err := p.do(ctx, abi.KindTransform, meta, data, func(rc int32, st *callState) error {
		switch rc {
		case abi.Unchanged, abi.Drop:
			res = TransformResult{Action: Action(rc)}
			return nil
		case abi.Replaced:
			if !st.outputSet {
				return fmt.Errorf("plugin %q: %w: %s returned replaced without calling %s", p.name, ErrPluginError, abi.ExportTransform, abi.FuncOutputSet)
			}
			if !json.Valid(st.output) {
				return fmt.Errorf("plugin %q: %w: output is not valid JSON (%d bytes)", p.name, ErrPluginError, len(st.output))
			}
			res = TransformResult{Action: Replaced, Output: st.output}
			return nil
		}
		return p.resultError(abi.KindTransform, rc)
	})
	return res, err
}

// Observe runs an observer plugin on one event.
func (p *Plugin) Observe(ctx context.Context, meta abi.Meta, data []byte) error {
	return p.do(ctx, abi.KindObserver, meta, data, func(rc int32, _ *callState) error {
		if rc == abi.ObserveOK {
			return nil
		}
		return p.resultError(abi.KindObserver, rc)
	})
}

func (p *Plugin) resultError(k abi.Kind, rc int32) error {
	if rc < 0 {
		return fmt.Errorf("plugin %q: %w: %s returned %d", p.name, ErrPluginError, k.Export(), rc)
	}
	return fmt.Errorf("plugin %q: %w: %s returned unknown result %d", p.name, ErrPluginError, k.Export(), rc)
}

// do runs one call: breaker, in-flight count, pool, deadline, and the
// crash policy. result interprets the handler's return value.
func (p *Plugin) do(ctx context.Context, k abi.Kind, meta abi.Meta, data []byte, result func(int32, *callState) error) error {
	if p.kind != k {
		return fmt.Errorf("plugin %q: %w: it is a %s, not a %s", p.name, ErrWrongKind, p.kind, k)
	}
	if p.brk.isOpen(time.Now()) {
		return fmt.Errorf("plugin %q: %w", p.name, ErrPluginBroken)
	}
	if len(data) > math.MaxInt32/2 {
		return fmt.Errorf("plugin %q: %w: event data of %d bytes", p.name, ErrPluginError, len(data))
	}
	if err := p.begin(); err != nil {
		return err
	}
	defer p.end()
	p.stats.calls.Add(1)

	in, err := p.pool.acquire(ctx, p.limits.AcquireTimeout)
	if err != nil {
		switch {
		case errors.Is(err, ErrBusy):
			p.stats.busy.Add(1)
			return fmt.Errorf("plugin %q: %w (%d instances, waited %s)", p.name, ErrBusy, p.limits.PoolSize, p.limits.AcquireTimeout)
		case errors.Is(err, ErrMemoryBudget):
			p.stats.busy.Add(1)
			return fmt.Errorf("plugin %q: %w", p.name, err)
		case errors.Is(err, ErrClosed), ctx.Err() != nil:
			return fmt.Errorf("plugin %q: %w", p.name, err)
		}
		p.recordCrash()
		return fmt.Errorf("plugin %q: %w: new instance: %v", p.name, ErrCrashed, err)
	}

	st := &in.st
	st.output, st.outputSet, st.reason = nil, false, ""
	in.meta = appendMeta(in.meta[:0], meta)

	callCtx, cancel := ctx, context.CancelFunc(nil)
	if !p.limits.noCloseOnDone {
		callCtx, cancel = context.WithTimeout(ctx, p.limits.CallTimeout)
	}
	rc, err := in.call(&stateCtx{callCtx, st}, data)
	timedOut := err != nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	if cancel != nil {
		cancel()
	}
	if err != nil {
		p.pool.release(ctx, in, true)
		switch {
		case timedOut:
			p.stats.timeouts.Add(1)
			p.recordCrash()
			if p.rt.onTimeout != nil {
				p.rt.onTimeout(p.name, p.kind, p.limits.CallTimeout)
			}
			return fmt.Errorf("plugin %q: %w (%s)", p.name, ErrTimeout, p.limits.CallTimeout)
		case ctx.Err() != nil && isCtxExit(err):
			// The caller gave up; the instance is gone but the plugin is
			// not to blame.
			return fmt.Errorf("plugin %q: %w", p.name, ctx.Err())
		}
		p.recordCrash()
		return fmt.Errorf("plugin %q: %w: %v", p.name, ErrCrashed, err)
	}
	err = result(rc, st)
	st.output = nil
	p.pool.release(ctx, in, false)
	if err != nil {
		p.stats.pluginErrors.Add(1)
	}
	return err
}

func isCtxExit(err error) bool {
	var ee *sys.ExitError
	if errors.As(err, &ee) {
		c := ee.ExitCode()
		return c == sys.ExitCodeContextCanceled || c == sys.ExitCodeDeadlineExceeded
	}
	return false
}

// appendMeta appends the meta document as JSON, without reflection.
func appendMeta(b []byte, m abi.Meta) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, m.Type)
	if m.Source != "" {
		b = append(b, `,"source":`...)
		b = appendString(b, m.Source)
	}
	b = append(b, `,"time":`...)
	b = appendString(b, m.Time)
	if m.WebhookID != "" {
		b = append(b, `,"webhook_id":`...)
		b = appendString(b, m.WebhookID)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does
// (invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
