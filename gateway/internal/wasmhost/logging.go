package wasmhost

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/eventgw/gateway/sdk/abi"
)

// logLimiter allows at most perSec guest log lines per wall-clock second and
// counts the rest. It is safe for concurrent use.
type logLimiter struct {
	perSec int

	mu      sync.Mutex
	window  int64 // unix second of the current window
	n       int   // lines in the window
	dropped int64 // lines dropped in the window
	total   int64 // lines dropped ever
}

// allow reports whether a line may be logged now, and how many lines were
// dropped in the window that just ended (to report once).
func (l *logLimiter) allow(now time.Time) (ok bool, droppedBefore int64) {
	sec := now.Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	if sec != l.window {
		droppedBefore = l.dropped
		l.window, l.n, l.dropped = sec, 0, 0
	}
	if l.n >= l.perSec {
		l.dropped++
		l.total++
		return false, droppedBefore
	}
	l.n++
	return true, droppedBefore
}

func (l *logLimiter) droppedTotal() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// guestLog logs one line from the guest (gw_v1 log, stdout or stderr),
// cut at abi.MaxLogLineBytes and rate-limited.
func (p *Plugin) guestLog(ctx context.Context, level slog.Level, stream string, msg []byte) {
	ok, dropped := p.logLimit.allow(time.Now())
	if dropped > 0 {
		p.logger.Warn("plugin log lines dropped by the rate limit", "dropped", dropped)
	}
	if !ok || !p.logger.Enabled(ctx, level) {
		return
	}
	truncated := false
	if len(msg) > abi.MaxLogLineBytes {
		msg, truncated = msg[:abi.MaxLogLineBytes], true
	}
	if truncated {
		p.logger.Log(ctx, level, string(msg), "stream", stream, "truncated", true)
		return
	}
	p.logger.Log(ctx, level, string(msg), "stream", stream)
}

// lineWriter is a guest's stdout or stderr: it splits the bytes into lines
// and logs each. It belongs to one instance, which runs one call at a time,
// so it needs no lock.
type lineWriter struct {
	p      *Plugin
	stream string
	level  slog.Level
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			room := abi.MaxLogLineBytes - len(w.buf)
			if len(b) < room {
				w.buf = append(w.buf, b...)
				break
			}
			// A line longer than abi.MaxLogLineBytes is logged in pieces.
			w.buf = append(w.buf, b[:room]...)
			w.flush()
			b = b[room:]
			continue
		}
		w.buf = append(w.buf, b[:i]...)
		w.flush()
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.p.guestLog(context.Background(), w.level, w.stream, w.buf)
	}
	w.buf = w.buf[:0]
}
