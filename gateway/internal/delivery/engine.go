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
	"github.com/eventgw/gateway/gateway/internal/delivery/schedule"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Deliveries is what the engine needs to persist delivery state. Only the
// writer goroutine writes; workers read one record at a time.
type Deliveries interface {
	// CreateDeliveries stores new deliveries, skipping existing ones, and
	// returns those it created.
	CreateDeliveries(ctx context.Context, ds []outbox.Delivery) ([]outbox.Delivery, error)
	UpdateDeliveries(ctx context.Context, us []outbox.Update) error
	// Unfinished calls fn with every unfinished delivery of a webhook.
	Unfinished(ctx context.Context, webhookID string, fn func(outbox.Delivery) error) error
	// Waiting streams every unfinished delivery's seq and due time, for
	// the schedule's rebuild at start.
	Waiting(ctx context.Context, fn func(outbox.Waiting) error) error
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
	// Now is the engine's clock (nil: time.Now). The scheduler reads no
	// clock of its own: the loop passes it this one's time.
	Now func() time.Time

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
// block: it is called from the writer.
type Observer interface {
	Observes(typ string) bool
	Observe(ev event.Event)
}

// Engine owns delivery: it is the bus subscriber that fans events out into
// deliveries, and the scheduler, writer and workers that send them. The
// package doc draws its goroutines and who owns what. Engine's methods are
// safe for concurrent use.
type Engine struct {
	opts   Options
	logger *slog.Logger
	sender *sender
	now    func() time.Time

	// cmds carries work to the loop: the writer's notes of what it stored
	// (in the order it stored them) and the API's questions.
	cmds chan func()
	// jobs carries attempts from the loop to the workers.
	jobs chan *job
	w    *writer

	// matcher is fan-out's view of the webhooks: the loop keeps it up to
	// date, fan-out reads it.
	matcher *matcher

	// loop-owned state (see loop.go)
	sched    *schedule.Scheduler
	hooks    map[string]*hook
	first    firstAttempts
	inFlight int
	timer    *time.Timer
	armed    time.Time
	opIDs    *event.IDGen

	workCtx    context.Context
	cancelWork context.CancelFunc
	stopLoop   context.CancelFunc
	loopDone   chan struct{}
	workers    sync.WaitGroup
	started    atomic.Bool
}

// New returns an engine; Start runs it.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TransformRecheck <= 0 {
		opts.TransformRecheck = defaultRecheck
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Workers < 1 {
		opts.Workers = 1
	}
	e := &Engine{
		opts:     opts,
		logger:   opts.Logger.With("component", "delivery"),
		sender:   newSender(opts.Dial, opts.Version, opts.MaxResponseBytes, opts.Timeout, opts.Workers),
		now:      opts.Now,
		cmds:     make(chan func(), 64),
		jobs:     make(chan *job),
		matcher:  newMatcher(),
		sched:    schedule.New(),
		hooks:    make(map[string]*hook),
		first:    newFirstAttempts(),
		opIDs:    event.NewIDGen(nil),
		loopDone: make(chan struct{}),
	}
	e.w = newWriter(e)
	return e
}

// Start loads the webhooks and rebuilds the schedule from the store, then
// starts the writer, the loop and the workers. The rebuild streams the
// store's small index of waiting deliveries (seq and due time), never
// their records, so a million of them take seconds and 24 bytes each.
func (e *Engine) Start(ctx context.Context) error {
	now := e.now()
	before := ""
	for {
		page, more, err := e.opts.Webhooks.Webhooks(ctx, before, 500)
		if err != nil {
			return fmt.Errorf("delivery: load webhooks: %w", err)
		}
		for i := range page {
			e.addHook(e.newHook(page[i], now), now)
			e.w.enabled[page[i].ID] = page[i].Enabled
		}
		if !more {
			break
		}
		before = page[len(page)-1].ID
	}
	for _, h := range e.hooks {
		if name := h.wh.Delivery.Transform; name != "" {
			if _, ok := e.transform(name); !ok {
				e.logger.Error("webhook names a transform plugin that is not loaded; its deliveries are held (pending) until it is",
					"webhook", h.wh.ID, "transform", name, "managed_by", managedBy(h.wh))
			}
		}
	}
	// Repairs for what a crash (or an older version) left half done; the
	// writer carries them out once it runs.
	orphans, toPark, toResume := map[string]bool{}, map[string]bool{}, map[string]bool{}
	n := 0
	err := e.opts.Deliveries.Waiting(ctx, func(w outbox.Waiting) error {
		n++
		h := e.hooks[w.WebhookID]
		switch {
		case h == nil:
			orphans[w.WebhookID] = true // deleted while this delivery waited
		case !h.wh.Enabled && !w.Parked:
			toPark[w.WebhookID] = true
		case h.wh.Enabled && w.Parked:
			toResume[w.WebhookID] = true // enabled, and the resume did not finish
		case h.wh.Enabled:
			e.sched.Push(w.WebhookID, w.EventSeq, w.Due, now)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	for id := range orphans {
		e.w.submit(&op{kind: opWebhookGone, webhookID: id})
	}
	for id := range toPark {
		e.w.submit(&op{kind: opPark, webhookID: id, reason: outbox.ReasonOperator})
	}
	for id := range toResume {
		e.w.submit(&op{kind: opResume, webhookID: id})
	}
	e.logger.Info("delivery started", "webhooks", len(e.hooks), "unfinished", n, "workers", e.opts.Workers)
	e.workCtx, e.cancelWork = context.WithCancel(context.WithoutCancel(ctx))
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stopLoop = stop
	for range e.opts.Workers {
		e.workers.Add(1)
		go e.work()
	}
	go e.w.run()
	go e.loop(loopCtx)
	e.started.Store(true)
	return nil
}

// Close stops scheduling, gives in-flight attempts ShutdownGrace to finish,
// then cancels them, and stops the writer once it has stored every
// finished attempt. Cancelled attempts are not recorded: those deliveries
// stay pending for the next start.
func (e *Engine) Close() {
	if !e.started.Load() {
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
	e.w.close()
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
