package delivery

import (
	"context"
	"fmt"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// SubscriptionName is the durable bus cursor of webhook fan-out.
const SubscriptionName = "webhooks"

var _ bus.Subscriber = (*Engine)(nil)

// Handle is the bus subscriber: it turns each event into one delivery per
// webhook whose patterns match, stored before Handle returns (so the bus
// cursor only passes events whose deliveries exist). Deliveries to disabled
// webhooks are created parked, never skipped. Delivery ids derive from the
// event and the webhook, so handling a batch again creates nothing new.
//
// Before fan-out each event passes the plugin pipeline (filters, then
// global transforms). A denied or dropped event gets no deliveries; a
// transformed one is delivered with the new data, a flagged one with the
// reasons in HeaderFlags. The outcome is stored first, so retries send the
// same data and flags. If Handle runs again after a crash
// the plugins run again too (at-least-once, like everything here).
func (e *Engine) Handle(ctx context.Context, events []event.Event) error {
	now := e.now().UTC()
	var pl *pipeline.Pipeline
	if e.opts.Pipeline != nil {
		pl = e.opts.Pipeline()
	}
	var ds []outbox.Delivery
	var outcomes []store.Outcome
	evs := make(map[event.Seq]*outgoing, len(events))
	for i := range events {
		// The bus shares events between subscribers: copy, never modify.
		out := &outgoing{ev: events[i]}
		ev := &out.ev
		if !pl.Empty() {
			res := pl.Run(ctx, ev)
			if len(res.Verdicts) > 0 {
				outcomes = append(outcomes, store.Outcome{Seq: ev.Seq, Verdicts: res.Verdicts, Stopped: res.Stopped, Data: res.Data})
			}
			if res.Stopped {
				continue
			}
			if res.Data != nil {
				ev.Data = res.Data
			}
			out.flags = flagsHeader(res.Verdicts)
		}
		evs[ev.Seq] = out
		for _, h := range e.matcher.match(ev.Type) {
			d := outbox.Delivery{EventSeq: ev.Seq, EventID: ev.ID, EventType: ev.Type, WebhookID: h.id,
				Status: outbox.StatusPending, CreatedAt: now, UpdatedAt: now}
			if !h.enabled {
				d.Status, d.Note = outbox.StatusParked, outbox.NoteWebhookDisabled
			}
			ds = append(ds, d)
		}
	}
	if err := e.opts.Events.SaveOutcomes(ctx, outcomes); err != nil {
		return fmt.Errorf("delivery: fan-out: %w", err)
	}
	if len(ds) == 0 {
		return nil
	}
	if err := e.await(context.WithoutCancel(ctx), &op{kind: opCreate, ds: ds, evs: evs}); err != nil {
		return fmt.Errorf("delivery: fan-out: %w", err)
	}
	return nil
}

// Subscription returns the bus subscription of webhook fan-out: durable,
// every event type (the engine matches patterns itself, so webhook changes
// need no new subscription).
func (e *Engine) Subscription() bus.Subscription {
	ps, _, _ := event.ParsePatterns([]string{">"})
	return bus.Subscription{Name: SubscriptionName, Patterns: ps, Durable: true, Subscriber: e}
}
