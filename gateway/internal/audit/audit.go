package audit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
	"unicode/utf8"
)

// Kind is what a Changed line is about.
type Kind string

// Kinds of changed things. Keys change only in the config file today;
// KindKey is for a future key API.
const (
	KindWebhook Kind = "webhook"
	KindPlugin  Kind = "plugin"
	KindKey     Kind = "key"
)

// Action is what a Changed line says was done.
type Action string

// Actions of Changed.
const (
	ActionCreate  Action = "create"
	ActionUpdate  Action = "update"
	ActionDelete  Action = "delete"
	ActionRotate  Action = "rotate"
	ActionEnable  Action = "enable"
	ActionDisable Action = "disable"
)

// Log writes audit lines. The zero value is not usable; a nil *Log
// discards every line.
type Log struct {
	logger *slog.Logger
	closer io.Closer
}

// New returns a Log that writes through logger, adding "audit": true to
// every line. It is how the trail goes to the main log.
func New(logger *slog.Logger) *Log {
	return &Log{logger: logger.With("audit", true)}
}

// Open returns the Log that audit.file asks for: with path empty, New(main);
// otherwise JSON lines appended to path, which is created with mode 0600 if
// it does not exist (an existing file keeps its mode; a warning on main says
// so when others can read it). Close closes the file.
func Open(path string, main *slog.Logger) (*Log, error) {
	if path == "" {
		return New(main), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open audit.file: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		main.Warn("audit.file existed and others can read or write it; the gateway does not change its mode: chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	l := New(slog.New(slog.NewJSONHandler(f, nil)))
	l.closer = f
	return l, nil
}

// Close closes the audit file, if Open opened one.
func (l *Log) Close() error {
	if l == nil || l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// AuthFailed records a request refused for its API key: reason says why
// ("missing", "invalid", or the scope it lacks), keyHint is KeyHint of the
// key presented (empty for none).
func (l *Log) AuthFailed(remote, reason, keyHint string) {
	l.write("auth_failed", slog.String("remote", remote), slog.String("reason", reason), slog.String("key_hint", keyHint))
}

// Changed records a change made through the API: kind and id say to what,
// action what was done, actor the name of the API key that did it.
func (l *Log) Changed(kind Kind, action Action, id, actor string) {
	l.write("changed", slog.String("object", string(kind)), slog.String("action", string(action)), slog.String("id", id), slog.String("actor", actor))
}

// DialBlocked records a delivery the egress guard refused to connect:
// host is the webhook URL's host, reason the guard's explanation.
func (l *Log) DialBlocked(webhookID, host, reason string) {
	l.write("dial_blocked", slog.String("webhook", webhookID), slog.String("host", host), slog.String("reason", reason))
}

// PluginTimeout records a plugin call that ran past its deadline; stage is
// the plugin's kind (filter, transform, observer).
func (l *Log) PluginTimeout(plugin, stage string, deadline time.Duration) {
	l.write("plugin_timeout", slog.String("plugin", plugin), slog.String("stage", stage), slog.Duration("deadline", deadline))
}

func (l *Log) write(kind string, attrs ...slog.Attr) {
	if l == nil {
		return
	}
	l.logger.LogAttrs(context.Background(), slog.LevelInfo, kind, append([]slog.Attr{slog.String("kind", kind)}, attrs...)...)
}

// KeyHint is the part of a presented API key an audit line may show: its
// last four characters, and nothing for a key shorter than 16, so that a
// hint never gives away more than a quarter of a key.
func KeyHint(key string) string {
	if utf8.RuneCountInString(key) < 16 || !utf8.ValidString(key) {
		return ""
	}
	r := []rune(key)
	return "…" + string(r[len(r)-4:])
}
