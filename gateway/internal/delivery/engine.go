package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Deliveries is what the engine needs to persist delivery state.
type Deliveries interface {
	CreateDeliveries(ctx context.Context, ds []outbox.Delivery) ([]outbox.Delivery, error)
	UpdateDeliveries(ctx context.Context, us []outbox.Update) error
	Unfinished(ctx context.Context, webhookID string, fn func(outbox.Delivery) error) error
	Delivery(ctx context.Context, id string) (outbox.Delivery, error)
}

// Events loads the event a delivery carries, as webhooks receive it (with
// a global transform's data) together with the plugin pipeline's outcome,
// and records those outcomes. An event whose outcome is Stopped is never
// sent: Stopped says which of a set of events those are.
type Events interface {
	EventForDelivery(ctx context.Context, seq event.Seq) (event.Event, store.Outcome, error)
	SaveOutcomes(ctx context.Context, os []store.Outcome) error
	Stopped(ctx context.Context, seqs []event.Seq) (map[event.Seq]string, error)
	// Cursor is the durable bus cursor saved under name: the last event
	// that subscription handled (zero if none). The engine reads its own
	// (SubscriptionName) to tell events fan-out has handled from those it
	// has not.
	Cursor(ctx context.Context, name string) (event.Seq, error)
}

// Webhooks reads registrations and lets the engine disable a webhook (410
// Gone, or failing for too long).
type Webhooks interface {
	Webhooks(ctx context.Context, before string, limit int) ([]webhook.Webhook, bool, error)
	Webhook(ctx context.Context, id string) (webhook.Webhook, error)
	MutateWebhook(ctx context.Context, id string, fn func(cur *webhook.Webhook) (*webhook.Webhook, error)) (*webhook.Webhook, error)
}

// Options configure the engine.
type Options struct {
	Deliveries Deliveries
	Events     Events
	Webhooks   Webhooks
	// Dial connects to endpoints; it is the egress guard's DialContext.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	Workers          int
	Timeout          time.Duration
	RetrySchedule    []time.Duration
	MaxResponseBytes int
	MaxInFlight      int
	BreakerFailures  int
	DisableAfter     time.Duration
	ShutdownGrace    time.Duration
	Version          string
	Logger           *slog.Logger
	// Pipeline returns the plugin pipeline events pass before fan-out (nil
	// or empty: none). It is called once per batch, so a hot reload takes
	// effect at the next batch.
	Pipeline func() *pipeline.Pipeline
	// Transform looks up a transform plugin by name, for webhooks that name
	// one (nil: no plugins). A delivery whose webhook names a transform
	// that is not found is not sent: it waits, unsent, and is checked
	// again with a backoff (TransformRecheck).
	Transform func(name string) (pipeline.Stage, bool)
	// TransformRecheck is the first wait of a delivery held because its
	// webhook's transform is not loaded; the waits double up to 60 times
	// it (default 1s: up to a minute). TransformsChanged ends the wait.
	TransformRecheck time.Duration
	// Observer, if set, receives the gateway's operational events
	// (gateway.delivery.*, gateway.webhook.disabled) after they happened
	// and were recorded.
	Observer Observer
	// Audit, if set, records every attempt the egress guard refused to
	// connect.
	Audit DialAuditor
}

// DialAuditor records refused dials: audit.Log. DialBlocked is called by a
// worker after the attempt, so it must not block for long.
type DialAuditor interface {
	DialBlocked(webhookID, host, reason string)
}

// Observer receives operational events. The engine asks Observes first and
// builds an event only for a type someone listens to. Observe must not
// block: it is called from the recorder and the scheduling loop.
type Observer interface {
	Observes(typ string) bool
	Observe(ev event.Event)
}

// Engine owns delivery: it is the bus subscriber that fans events out into
// deliveries, and the scheduler and workers that send them.
//
// One goroutine (loop) owns all scheduling state; workers only perform
// attempts and persist their outcome; everything else talks to the loop
// through the cmds channel. Engine's methods are safe for concurrent use.
type Engine struct {
	opts   Options
	logger *slog.Logger
	sender *sender

	cmds    chan func()
	jobs    chan *job
	results chan result
	// outcomes carries finished attempts from workers to the recorder.
	outcomes     chan result
	recorderDone chan struct{}
	hooks        atomic.Pointer[[]hookInfo] // snapshot for fan-out

	// loop-owned state
	queues map[string]*queue
	// heldEvents counts queued items that carry their event; heldBytes
	// sums their data.
	heldEvents int
	heldBytes  int
	// opIDs names operational events.
	opIDs *event.IDGen
	timer *time.Timer

	workCtx    context.Context
	cancelWork context.CancelFunc
	stopLoop   context.CancelFunc
	loopDone   chan struct{}
	workers    sync.WaitGroup
}

// hookInfo is what fan-out needs to know about a webhook.
type hookInfo struct {
	id       string
	enabled  bool
	patterns event.Patterns
}

// New returns an engine; Start runs it.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TransformRecheck <= 0 {
		opts.TransformRecheck = defaultRecheck
	}
	e := &Engine{
		opts:         opts,
		logger:       opts.Logger.With("component", "delivery"),
		sender:       newSender(opts.Dial, opts.Version, opts.MaxResponseBytes, opts.Timeout, opts.Workers),
		cmds:         make(chan func(), 64),
		jobs:         make(chan *job),
		results:      make(chan result, opts.Workers),
		outcomes:     make(chan result, opts.Workers),
		recorderDone: make(chan struct{}),
		queues:       make(map[string]*queue),
		opIDs:        event.NewIDGen(nil),
	}
	empty := []hookInfo{}
	e.hooks.Store(&empty)
	return e
}

// Start loads webhooks and every unfinished delivery, then starts the loop
// and the workers.
func (e *Engine) Start(ctx context.Context) error {
	before := ""
	for {
		page, more, err := e.opts.Webhooks.Webhooks(ctx, before, 500)
		if err != nil {
			return fmt.Errorf("delivery: load webhooks: %w", err)
		}
		for i := range page {
			e.queues[page[i].ID] = e.newQueue(page[i])
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	for _, q := range e.queues {
		if name := q.wh.Delivery.Transform; name != "" {
			if _, ok := e.transform(name); !ok {
				e.logger.Error("webhook names a transform plugin that is not loaded; its deliveries are held (pending) until it is",
					"webhook", q.wh.ID, "transform", name, "managed_by", managedBy(q.wh))
			}
		}
	}
	e.publishHooks()
	now := time.Now()
	var toPark, toResume []outbox.Update
	n := 0
	err := e.opts.Deliveries.Unfinished(ctx, "", func(d outbox.Delivery) error {
		q := e.queues[d.WebhookID]
		if q == nil {
			// The webhook was deleted while this delivery was in flight.
			d.Status, d.Note, d.UpdatedAt = outbox.StatusDead, "webhook deleted", now
			toPark = append(toPark, outbox.Update{Delivery: d})
			return nil
		}
		switch {
		case !q.wh.Enabled && d.Status != outbox.StatusParked:
			d.Status, d.Note, d.UpdatedAt = outbox.StatusParked, "webhook disabled", now
			toPark = append(toPark, outbox.Update{Delivery: d})
		case q.wh.Enabled && d.Status == outbox.StatusParked:
			d.Status, d.Note, d.UpdatedAt = outbox.StatusPending, "", now
			toResume = append(toResume, outbox.Update{Delivery: d})
			q.push(d)
		case q.wh.Enabled:
			q.push(d)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	if err := e.opts.Deliveries.UpdateDeliveries(ctx, append(toPark, toResume...)); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	e.logger.Info("delivery started", "webhooks", len(e.queues), "unfinished", n, "workers", e.opts.Workers)
	e.workCtx, e.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stopLoop = stop
	e.loopDone = make(chan struct{})
	for range e.opts.Workers {
		e.workers.Add(1)
		go e.work()
	}
	go e.record()
	go e.loop(loopCtx)
	return nil
}

// Close stops scheduling, gives in-flight attempts ShutdownGrace to finish,
// then cancels them. Cancelled attempts are not recorded: those deliveries
// stay pending for the next start.
func (e *Engine) Close() {
	if e.stopLoop == nil {
		return
	}
	e.stopLoop()
	<-e.loopDone
	close(e.jobs)
	done := make(chan struct{})
	go func() { e.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.opts.ShutdownGrace):
		e.logger.Warn("in-flight deliveries did not finish within delivery.shutdown_grace; they stay pending")
		e.cancelWork()
		<-done
	}
	close(e.outcomes)
	<-e.recorderDone
	e.cancelWork()
	// Close the kept-alive connections to receivers: an embedding program
	// outlives the engine, and a receiver's graceful shutdown waits for
	// connections that stay open.
	e.sender.client.CloseIdleConnections()
}

// do runs f on the loop goroutine and waits for it.
func (e *Engine) do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case e.cmds <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.loopDone:
		return errStopped
	}
	select {
	case <-done:
		return nil
	case <-e.loopDone:
		return errStopped
	}
}

var errStopped = errors.New("delivery: engine stopped")

func (e *Engine) publishHooks() {
	hs := make([]hookInfo, 0, len(e.queues))
	for _, q := range e.queues {
		hs = append(hs, hookInfo{id: q.wh.ID, enabled: q.wh.Enabled, patterns: q.patterns})
	}
	e.hooks.Store(&hs)
}

// managedBy names who manages w, for logs.
func managedBy(w webhook.Webhook) string {
	if w.Managed != "" {
		return w.Managed
	}
	return "api"
}
