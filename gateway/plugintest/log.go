package plugintest

import (
	"context"
	"log/slog"
)

// Log is one line the plugin logged.
type Log struct {
	Level slog.Level
	Msg   string
	// Stream is "log" for gw_v1 log, or "stdout" or "stderr"; it is empty
	// for the host's own lines about the plugin, such as a warning that the
	// log rate limit dropped lines.
	Stream string
}

// logHandler records the plugin's log lines on its Plugin. The host adds
// the attributes; only the stream is kept.
type logHandler struct {
	p *Plugin
}

var _ slog.Handler = (*logHandler)(nil)

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	l := Log{Level: r.Level, Msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "stream" {
			l.Stream = a.Value.String()
		}
		return true
	})
	h.p.mu.Lock()
	h.p.logs = append(h.p.logs, l)
	h.p.mu.Unlock()
	return nil
}

func (h *logHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logHandler) WithGroup(string) slog.Handler      { return h }
