package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// Subscriber receives committed events.
//
// Call order and concurrency: for one subscription, Handle is called from a
// single goroutine, never concurrently with itself, with batches in commit
// order; every event in a batch matches the subscription's patterns.
// Different subscriptions run concurrently.
//
// Ownership: the slice and the events, including their Data bytes, belong to
// the subscriber once Handle is called; the bus never reuses them. They are
// shared by every subscription that matched, so they must not be modified.
//
// Errors: if Handle returns an error, the same batch is offered again after
// a backoff; the cursor only moves when Handle returns nil. After a crash the
// events after the last saved cursor are offered again, so a durable
// subscriber must be idempotent (at-least-once). ctx is cancelled when the
// bus closes; Handle should then return promptly.
type Subscriber interface {
	Handle(ctx context.Context, events []event.Event) error
}

// SubscriberFunc adapts a function to Subscriber.
type SubscriberFunc func(ctx context.Context, events []event.Event) error

// Handle calls f.
func (f SubscriberFunc) Handle(ctx context.Context, events []event.Event) error {
	return f(ctx, events)
}

// Log is what the bus needs from the store: the event log in commit order
// and a place to keep cursors.
type Log interface {
	// ReadAfter returns up to max events committed after seq, oldest first;
	// fewer, but at least one if any, when the events are large.
	ReadAfter(ctx context.Context, after event.Seq, max int) ([]event.Event, error)
	// LastSeq returns the newest committed seq.
	LastSeq(ctx context.Context) (event.Seq, error)
	// Cursor and SetCursor load and save a durable subscription's position.
	Cursor(ctx context.Context, name string) (event.Seq, error)
	SetCursor(ctx context.Context, name string, seq event.Seq) error
}

// Subscription describes one subscriber.
type Subscription struct {
	// Name identifies the subscription; durable cursors are saved under it.
	Name string
	// Patterns selects the event types handed to the subscriber.
	Patterns event.Patterns
	// Durable subscriptions keep their cursor in the store and resume from
	// it after a restart. Others start at the end of the log each time.
	Durable bool
	// BatchSize caps the events per Handle call (default 256).
	BatchSize  int
	Subscriber Subscriber
}

// ErrStarted is returned by Subscribe after Start.
var ErrStarted = errors.New("bus: already started")

// Retry backoff for a failing subscriber.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Bus runs the subscriptions.
type Bus struct {
	log    Log
	logger *slog.Logger
	subs   []*runner

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	// running is subs as Start froze it. Notify, Dispatched and Lag read it
	// without taking mu: the committer calls Notify from the moment the
	// store opens, possibly while Subscribe is still appending to subs.
	running atomic.Pointer[[]*runner]
}

// New returns a bus reading from log.
func New(log Log, logger *slog.Logger) *Bus {
	if logger == nil {
		logger = slog.Default()
	}
	return &Bus{log: log, logger: logger}
}

// Subscribe adds a subscription. It must be called before Start.
func (b *Bus) Subscribe(s Subscription) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return ErrStarted
	}
	if s.Name == "" || s.Subscriber == nil {
		return errors.New("bus: subscription needs a name and a subscriber")
	}
	for _, r := range b.subs {
		if r.sub.Name == s.Name {
			return fmt.Errorf("bus: subscription %q already exists", s.Name)
		}
	}
	if s.BatchSize <= 0 {
		s.BatchSize = 256
	}
	b.subs = append(b.subs, &runner{sub: s, wake: make(chan struct{}, 1)})
	return nil
}

// Start loads every cursor and starts one goroutine per subscription. The
// goroutines run until Close.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return ErrStarted
	}
	end, err := b.log.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("bus: start: %w", err)
	}
	for _, r := range b.subs {
		cur := end
		if r.sub.Durable {
			if cur, err = b.log.Cursor(ctx, r.sub.Name); err != nil {
				return fmt.Errorf("bus: start %q: %w", r.sub.Name, err)
			}
		}
		r.cursor.Store(&cur)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.started = true
	subs := slices.Clip(b.subs)
	b.running.Store(&subs)
	for _, r := range b.subs {
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.run(runCtx, r)
		}()
	}
	return nil
}

// Notify wakes every subscription to read new events. It never blocks, so
// the store's committer can call it after each commit. Before Start it does
// nothing: Start reads the log anyway.
func (b *Bus) Notify() {
	rs := b.running.Load()
	if rs == nil {
		return
	}
	for _, r := range *rs {
		select {
		case r.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Close stops the subscriptions and waits for running Handle calls to
// return. Events not yet handled stay in the log for the next start.
func (b *Bus) Close() {
	b.mu.Lock()
	cancel := b.cancel
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	b.wg.Wait()
}

// Dispatched reports whether every durable subscription has handled the
// event with the given seq.
func (b *Bus) Dispatched(seq event.Seq) bool {
	for _, r := range b.runners() {
		if !r.sub.Durable {
			continue
		}
		cur := r.cursor.Load()
		if cur == nil || string(cur[:]) < string(seq[:]) {
			return false
		}
	}
	return true
}

// Lag reports, per subscription name, how many events it is behind the
// newest one, counting at most limit (fewer when the events are large:
// ReadAfter stops at about 8 MiB).
func (b *Bus) Lag(ctx context.Context, limit int) (map[string]int, error) {
	rs := b.runners()
	out := make(map[string]int, len(rs))
	for _, r := range rs {
		cur := r.cursor.Load()
		if cur == nil {
			continue
		}
		evs, err := b.log.ReadAfter(ctx, *cur, limit)
		if err != nil {
			return nil, err
		}
		out[r.sub.Name] = len(evs)
	}
	return out, nil
}

// runners returns the subscriptions, safely also before Start.
func (b *Bus) runners() []*runner {
	if rs := b.running.Load(); rs != nil {
		return *rs
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.subs)
}

type runner struct {
	sub    Subscription
	wake   chan struct{}
	cursor atomic.Pointer[event.Seq]
}

func (b *Bus) run(ctx context.Context, r *runner) {
	logger := b.logger.With("subscription", r.sub.Name)
	for ctx.Err() == nil {
		cur := *r.cursor.Load()
		evs, err := b.log.ReadAfter(ctx, cur, r.sub.BatchSize)
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("bus: read log", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if len(evs) == 0 {
			select {
			case <-r.wake:
			case <-ctx.Done():
			}
			continue
		}
		matched := make([]event.Event, 0, len(evs))
		for _, ev := range evs {
			if r.sub.Patterns.Match(ev.Type) {
				matched = append(matched, ev)
			}
		}
		if len(matched) > 0 && !b.handle(ctx, logger, r, matched) {
			return // closing; the batch stays unhandled for the next start
		}
		next := evs[len(evs)-1].Seq
		if r.sub.Durable {
			// Handle accepted the batch, so save the cursor even if the bus
			// is closing: otherwise a clean restart hands the batch out again.
			if err := b.log.SetCursor(context.WithoutCancel(ctx), r.sub.Name, next); err != nil {
				// Not fatal: the next save covers it, and a stale cursor only
				// means redelivery after a crash.
				logger.Warn("bus: save cursor", "err", err)
			}
		}
		r.cursor.Store(&next)
	}
}

// handle offers batch until the subscriber accepts it; false means ctx ended.
func (b *Bus) handle(ctx context.Context, logger *slog.Logger, r *runner, batch []event.Event) bool {
	backoff := minBackoff
	for {
		err := r.sub.Subscriber.Handle(ctx, batch)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		logger.Error("bus: subscriber failed; retrying the batch", "err", err, "events", len(batch), "first_id", batch[0].ID, "retry_in", backoff)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
