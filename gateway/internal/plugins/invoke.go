package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/sdk/abi"
)

// maxInvokeLogs caps the log lines a dry run returns.
const maxInvokeLogs = 100

// Invocation is the result of a dry run.
type Invocation struct {
	Kind string `json:"kind"`
	// Verdict is a filter's answer; Action a transform's.
	Verdict string `json:"verdict,omitempty"`
	Action  string `json:"action,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Output is a transform's replaced data.
	Output     json.RawMessage `json:"output,omitempty"`
	Logs       []LogLine       `json:"logs"`
	DurationMS float64         `json:"duration_ms"`
	// Error is the plugin's failure, if it failed.
	Error string `json:"error,omitempty"`
}

// LogLine is one line a plugin logged during a dry run.
type LogLine struct {
	Level   string         `json:"level"`
	Message string         `json:"message"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// Invoke runs the plugin called name on ev as a dry run: on a throwaway
// instance of the same module and settings, loaded with a logger that
// captures its lines. The dry run has no key-value store (kv_* answer
// unavailable), so it cannot change the state the live plugin counts on.
func (m *Manager) Invoke(ctx context.Context, name string, ev event.Event, webhookID string) (Invocation, error) {
	l := m.Current().find(name)
	if l == nil {
		return Invocation{}, fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	capture := &captureHandler{}
	pc := l.cfg
	pc.Limits.Instances = 1
	p, err := m.runtime.Load(ctx, spec(pc, l.wasm, nil, slog.New(capture)))
	if err != nil {
		return Invocation{}, fmt.Errorf("plugin %q: dry run: %w", name, err)
	}
	defer func() { _ = p.Close(context.WithoutCancel(ctx)) }()
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	meta := pipeline.Meta(&ev, webhookID)
	inv := Invocation{Kind: string(p.Kind())}
	start := time.Now()
	switch p.Kind() {
	case abi.KindFilter:
		var r wasmhost.FilterResult
		if r, err = p.Filter(ctx, meta, ev.Data); err == nil {
			inv.Verdict, inv.Reason = r.Verdict.String(), r.Reason
		}
	case abi.KindTransform:
		var r wasmhost.TransformResult
		if r, err = p.Transform(ctx, meta, ev.Data); err == nil {
			inv.Action = r.Action.String()
			if r.Action == wasmhost.Replaced {
				inv.Output = r.Output
			}
		}
	default:
		err = p.Observe(ctx, meta, ev.Data)
	}
	inv.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		inv.Error = err.Error()
	}
	inv.Logs = capture.lines()
	return inv, nil
}

// captureHandler is a slog.Handler that keeps the records it gets.
type captureHandler struct {
	attrs []slog.Attr
	root  *captureHandler

	mu   sync.Mutex
	kept []LogLine
}

func (h *captureHandler) base() *captureHandler {
	if h.root != nil {
		return h.root
	}
	return h
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	line := LogLine{Level: r.Level.String(), Message: r.Message}
	add := func(a slog.Attr) bool {
		if a.Key == "plugin" {
			return true
		}
		if line.Attrs == nil {
			line.Attrs = make(map[string]any)
		}
		line.Attrs[a.Key] = a.Value.Any()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b := h.base()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.kept) < maxInvokeLogs {
		b.kept = append(b.kept, line)
	}
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{attrs: append(append([]slog.Attr(nil), h.attrs...), as...), root: h.base()}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

func (h *captureHandler) lines() []LogLine {
	b := h.base()
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]LogLine{}, b.kept...)
}
