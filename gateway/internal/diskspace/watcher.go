package diskspace

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Usage is what statfs says of the filesystem under a directory, in bytes.
type Usage struct {
	// Total is the filesystem's size.
	Total uint64
	// Avail is what an unprivileged process may still allocate (f_bavail).
	Avail uint64
}

// Default margin: DefaultMinFree or one DefaultShareDivisor-th (2%) of the
// filesystem, whichever is smaller, so a small disk is not refused whole.
const (
	DefaultMinFree      = 256 << 20
	DefaultShareDivisor = 50
)

// MinFreeFor is the default storage.min_free_bytes for a filesystem of
// total bytes.
func MinFreeFor(total uint64) int64 {
	return int64(min(uint64(DefaultMinFree), total/DefaultShareDivisor))
}

// Options configure a Watcher.
type Options struct {
	// Dir is the data directory. It must exist.
	Dir string
	// MinFree is storage.min_free_bytes; 0 means MinFreeFor the
	// filesystem's size.
	MinFree int64
	// Interval is the time between polls (default 1s).
	Interval time.Duration
	// Needed reports the bytes the store may still write without asking
	// (store.SpaceNeeded); nil counts nothing.
	Needed func() (int64, error)
	// Statfs reads the filesystem's usage (default: the statfs system
	// call). Tests replace it.
	Statfs func(dir string) (Usage, error)
	// Logger gets one line when ingest stops for lack of space and one when
	// it resumes (default slog.Default()).
	Logger *slog.Logger
}

// LowError says the data directory is short of space. Its message names
// the figures and the config key.
type LowError struct {
	Dir string
	// Free is Avail less Needed: what new events may still use.
	Free int64
	// Avail is the filesystem's free space, Needed what the store has
	// promised itself of it.
	Avail, Needed int64
	// MinFree is the margin that was not met.
	MinFree int64
}

func (e *LowError) Error() string {
	return fmt.Sprintf("data directory %s is short of space: %s usable (%s free on its filesystem, less %s the store keeps for its own files), below storage.min_free_bytes (%s); free space, or lower storage.min_free_bytes",
		e.Dir, FormatBytes(e.Free), FormatBytes(e.Avail), FormatBytes(e.Needed), FormatBytes(e.MinFree))
}

// Watcher polls the free space of a data directory and answers, without a
// system call, whether an append of some bytes may go ahead.
type Watcher struct {
	opts Options
	// state is the last poll's answer; admitted counts the bytes Admit let
	// through since that poll.
	state    atomic.Pointer[state]
	admitted atomic.Int64
	// low remembers the last condition, so that only transitions are
	// logged, and polled whether there was a poll before. Only the polling
	// goroutine (or New, before it) touches them.
	low, polled bool

	stop     chan struct{}
	done     chan struct{}
	started  atomic.Bool
	stopOnce sync.Once
}

type state struct {
	avail, needed, minFree int64
}

func (s *state) free() int64 { return s.avail - s.needed }

// New returns a Watcher for opts.Dir after polling it once, so that its
// first answer is real. It fails only when the first poll does: the
// directory cannot be read by statfs or Needed fails. Call Start to keep
// polling.
func New(opts Options) (*Watcher, error) {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Statfs == nil {
		opts.Statfs = statfs
	}
	if opts.Needed == nil {
		opts.Needed = func() (int64, error) { return 0, nil }
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Watcher{opts: opts, stop: make(chan struct{}), done: make(chan struct{})}
	if err := w.poll(); err != nil {
		return nil, err
	}
	return w, nil
}

// Start polls every Options.Interval until Close. A failed poll keeps the
// last answer and logs a warning.
func (w *Watcher) Start() {
	if !w.started.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.opts.Interval)
		defer t.Stop()
		var failing bool
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			err := w.poll()
			if err != nil && !failing {
				w.opts.Logger.Warn("cannot read the data directory's free space; keeping the last reading", "dir", w.opts.Dir, "err", err)
			}
			failing = err != nil
		}
	}()
}

// Close stops polling. It is safe to call more than once, and without Start.
func (w *Watcher) Close() {
	w.stopOnce.Do(func() {
		close(w.stop)
		if w.started.Load() {
			<-w.done
		}
	})
}

// Err returns a *LowError while the directory is below the margin, else
// nil. /readyz asks it.
func (w *Watcher) Err() error {
	s := w.state.Load()
	free := s.free() - w.admitted.Load()
	if free < s.minFree {
		return w.lowError(s, free)
	}
	return nil
}

// Admit reserves n bytes for an append. It returns a *LowError, and
// reserves nothing, when the bytes would take the directory below the
// margin. The reservation lasts until the next poll, which sees the bytes
// on disk instead.
func (w *Watcher) Admit(n int64) error {
	s := w.state.Load()
	after := w.admitted.Add(n)
	if free := s.free() - after; free < s.minFree {
		w.admitted.Add(-n)
		return w.lowError(s, free+n)
	}
	return nil
}

func (w *Watcher) lowError(s *state, free int64) *LowError {
	return &LowError{Dir: w.opts.Dir, Free: free, Avail: s.avail, Needed: s.needed, MinFree: s.minFree}
}

// poll reads the filesystem and the store's needs, publishes the answer
// and logs a change between enough and too little space.
func (w *Watcher) poll() error {
	u, err := w.opts.Statfs(w.opts.Dir)
	if err != nil {
		return fmt.Errorf("diskspace: statfs %s: %w", w.opts.Dir, err)
	}
	needed, err := w.opts.Needed()
	if err != nil {
		return fmt.Errorf("diskspace: %w", err)
	}
	minFree := w.opts.MinFree
	if minFree <= 0 {
		minFree = MinFreeFor(u.Total)
	}
	s := &state{avail: int64(min(u.Avail, 1<<62)), needed: needed, minFree: minFree}
	w.state.Store(s)
	w.admitted.Store(0)

	err = w.Err()
	var low *LowError
	switch isLow := errors.As(err, &low); {
	case !w.polled:
		// The first reading is the caller's to report (serve refuses to
		// start with it); later changes are logged.
	case isLow && !w.low:
		w.opts.Logger.Error("refusing new events: the data directory is short of space", "dir", w.opts.Dir,
			"usable", low.Free, "free", low.Avail, "store_reserve", low.Needed, "min_free_bytes", low.MinFree)
	case !isLow && w.low:
		w.opts.Logger.Info("the data directory has space again; accepting new events", "dir", w.opts.Dir,
			"usable", s.free(), "min_free_bytes", s.minFree)
	}
	w.low = err != nil
	w.polled = true
	return nil
}

// FormatBytes writes n in binary units, for messages: "12.0 MiB".
func FormatBytes(n int64) string {
	const unit = 1 << 10
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), -1
	for (f >= unit || f <= -unit) && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTP"[i])
}
