package plugins

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/sdk/abi"
)

// observers dispatches bus events to the current Set's observer plugins:
// one bus subscription for all of them, and one bounded queue and goroutine
// per observer name, so observers come and go with Put and Delete without
// touching the bus. A replaced observer keeps its queue; the new version
// takes the events queued for the old one.
type observers struct {
	m      *Manager
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	workers map[string]*observer
	wg      sync.WaitGroup
}

var _ bus.Subscriber = (*observers)(nil)

func (o *observers) init(m *Manager) {
	o.m = m
	o.ctx, o.cancel = context.WithCancel(context.Background())
	o.workers = make(map[string]*observer)
}

// Subscription is the bus subscription that feeds every observer plugin.
// It is not durable: observers see what happens while the gateway runs.
func (m *Manager) Subscription() bus.Subscription {
	return bus.Subscription{Name: "plugins:observers", Patterns: event.Patterns{event.MustParsePattern(">")}, Subscriber: &m.obs}
}

// Observes reports whether a loaded observer's event_types match typ: the
// delivery engine asks before it builds an operational event.
func (m *Manager) Observes(typ string) bool { return m.Current().observes(typ) }

// Observe hands one event that is not in the log (an operational event such
// as gateway.delivery.succeeded) to the matching observers, without
// blocking.
func (m *Manager) Observe(ev event.Event) {
	_ = m.obs.Handle(context.Background(), []event.Event{ev})
}

// Handle queues each event for the current observers that match it,
// without blocking; a full queue drops and counts.
func (o *observers) Handle(_ context.Context, events []event.Event) error {
	set := o.m.Current()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range set.loaded {
		if l.plugin.Kind() != abi.KindObserver {
			continue
		}
		w := o.workers[l.cfg.Name]
		if w == nil {
			continue
		}
		for _, ev := range events {
			if l.stage.Patterns.Match(ev.Type) {
				w.offer(ev)
			}
		}
	}
	return nil
}

// sync starts a worker for each new observer of set and stops the workers
// of observers it no longer has.
func (o *observers) sync(set *Set) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx.Err() != nil {
		return
	}
	keep := make(map[string]bool)
	for _, l := range set.loaded {
		if l.plugin.Kind() != abi.KindObserver {
			continue
		}
		keep[l.cfg.Name] = true
		if o.workers[l.cfg.Name] == nil {
			w := &observer{name: l.cfg.Name, queue: make(chan event.Event, observerQueue), logger: o.m.logger}
			w.ctx, w.stop = context.WithCancel(o.ctx)
			o.workers[l.cfg.Name] = w
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				w.run(o.m)
			}()
		}
	}
	for name, w := range o.workers {
		if !keep[name] {
			w.stop()
			delete(o.workers, name)
		}
	}
}

// close stops every worker and waits for them.
func (o *observers) close() {
	o.mu.Lock()
	o.cancel()
	o.workers = map[string]*observer{}
	o.mu.Unlock()
	o.wg.Wait()
}

// observer is one observer's queue and goroutine.
type observer struct {
	name    string
	ctx     context.Context
	stop    context.CancelFunc
	queue   chan event.Event
	dropped int64 // under observers.mu
	logger  *slog.Logger
}

func (w *observer) offer(ev event.Event) {
	select {
	case w.queue <- ev:
	default:
		w.dropped++
		if w.dropped == 1 || w.dropped%1000 == 0 {
			w.logger.Warn("observer queue full; events dropped for this observer", "plugin", w.name, "dropped_total", w.dropped)
		}
	}
}

// run calls the observer now loaded under the name for each queued event.
func (w *observer) run(m *Manager) {
	for {
		select {
		case <-w.ctx.Done():
			return
		case ev := <-w.queue:
			l := m.Current().find(w.name)
			if l == nil || l.plugin.Kind() != abi.KindObserver {
				continue
			}
			a := adapter{m: m, name: w.name, p: l.plugin}
			err := a.Observe(w.ctx, pipeline.Meta(&ev, ""), ev.Data)
			if err != nil && !errors.Is(err, context.Canceled) {
				w.logger.Warn("observer failed", "plugin", w.name, "event", ev.ID, "err", err)
			}
		}
	}
}
