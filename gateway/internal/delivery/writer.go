package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// opKind names what the writer is asked to store.
type opKind uint8

const (
	// opOutcome: a worker's finished attempt (r). Batched.
	opOutcome opKind = iota + 1
	// opCreate: fan-out's new deliveries (ds, evs). Batched; the reply
	// comes once they are stored.
	opCreate
	// opWebhook: webhook webhookID changed through the API or the config:
	// read it, and resume, park or close its deliveries to match.
	opWebhook
	// opDisable: the loop disabled webhookID for reason (410 Gone, failing
	// for too long): store that, park its deliveries, report it.
	opDisable
	// opPark: park seqs of webhookID (all its unfinished ones if seqs is
	// empty) for reason.
	opPark
	// opResume: resume the parked seqs of webhookID (all of them if seqs is
	// empty), if it is enabled.
	opResume
	// opWebhookGone: close seqs of webhookID (all its unfinished ones if
	// seqs is empty), which was deleted.
	opWebhookGone
	// opRetry: reopen ds[0] for one more attempt now.
	opRetry
	// opReplay: create or reopen ds.
	opReplay
	// opDiscard: discard the parked deliveries of webhookID; n counts them.
	opDiscard
)

// op is one request to the writer. reply, if set, gets the outcome: for
// ops the loop must apply (retry, replay, webhook changes), once it has.
type op struct {
	kind      opKind
	webhookID string
	seqs      []event.Seq
	ds        []outbox.Delivery
	evs       map[event.Seq]*outgoing
	reason    string
	r         *result
	reply     chan error
	n         int
}

// rewriteChunk is how many deliveries a rewrite (park, resume, close,
// discard) stores per transaction and hands to the loop at once, so that
// rewriting a million of them never holds a million in memory.
const rewriteChunk = 1000

// writer is the one goroutine that writes delivery state. It takes every
// write (attempt outcomes, fan-out's creates, parks, resumes, retries,
// replays, discards, disables), batches what it can into one transaction,
// and only then tells the loop, through Engine.cmds, in the order it
// stored. So the store always knows a change before the scheduler acts on
// it, and the loop never waits for the disk.
//
// submit never blocks: the queue is a slice. It stays small because its
// producers are bounded: workers (one outcome each), fan-out and the API
// (which wait for their reply), and the loop's parks and disables.
type writer struct {
	e    *Engine
	ctx  context.Context
	mu   sync.Mutex
	q    []*op
	shut bool
	wake chan struct{}
	done chan struct{}
	// enabled is each webhook's enabled state as the writer last stored or
	// read it; it tells an enable or a disable from another change. Owned
	// by the writer goroutine (and by Start, before it runs).
	enabled map[string]bool
}

func newWriter(e *Engine) *writer {
	return &writer{e: e, ctx: context.Background(), wake: make(chan struct{}, 1), done: make(chan struct{}), enabled: make(map[string]bool)}
}

// submit queues o. It reports false if the writer has stopped.
func (w *writer) submit(o *op) bool {
	w.mu.Lock()
	if w.shut {
		w.mu.Unlock()
		return false
	}
	w.q = append(w.q, o)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// close stops the writer once it has stored everything queued.
func (w *writer) close() {
	w.mu.Lock()
	w.shut = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		ops, shut := w.q, w.shut
		w.q = nil
		w.mu.Unlock()
		if len(ops) == 0 {
			if shut {
				return
			}
			<-w.wake
			continue
		}
		w.apply(ops)
	}
}

// apply stores ops in order: runs of outcomes and creates in one batch,
// everything else one by one.
func (w *writer) apply(ops []*op) {
	start := 0
	for i, o := range ops {
		if o.kind == opOutcome || o.kind == opCreate {
			continue
		}
		w.batch(ops[start:i])
		w.one(o)
		start = i + 1
	}
	w.batch(ops[start:])
}

// batch stores a run of outcomes and creates: the outcomes in one
// transaction, each fan-out batch in one. Then it reports the outcomes
// and tells the loop.
func (w *writer) batch(ops []*op) {
	if len(ops) == 0 {
		return
	}
	var us []outbox.Update
	var rs []result
	var queued []outbox.Delivery
	evs := map[event.Seq]*outgoing{}
	for _, o := range ops {
		switch o.kind {
		case opOutcome:
			if o.r.fx.Write {
				us = append(us, outbox.Update{Delivery: o.r.d, Attempt: o.r.fx.Attempt})
			}
			rs = append(rs, *o.r)
		case opCreate:
			created, err := w.e.opts.Deliveries.CreateDeliveries(w.ctx, o.ds)
			if err == nil {
				queued = append(queued, created...)
				for seq, ev := range o.evs {
					evs[seq] = ev
				}
			}
			o.reply <- err
		}
	}
	if err := w.e.opts.Deliveries.UpdateDeliveries(w.ctx, us); err != nil {
		for i := range rs {
			if rs[i].fx.Write {
				rs[i].err = err
			}
		}
	} else {
		for i := range rs {
			if rs[i].fx.Notify != "" {
				w.e.notifyOutcome(rs[i].fx.Notify, &rs[i].d)
			}
		}
	}
	w.e.toLoop(func() {
		w.e.finished(rs)
		w.e.queue(queued, evs, true)
	})
}

// one carries out an op that is not batched.
func (w *writer) one(o *op) {
	var err error
	switch o.kind {
	case opWebhook:
		w.webhookChanged(o)
		return
	case opDisable:
		err = w.disable(o.webhookID, o.reason)
	case opPark:
		_, err = w.rewrite(o.webhookID, o.seqs, outbox.Transition{Kind: outbox.WebhookDisabled, Reason: o.reason}, nil)
	case opResume:
		err = w.resume(o.webhookID, o.seqs)
	case opWebhookGone:
		if _, exists := w.enabled[o.webhookID]; !exists {
			_, err = w.rewrite(o.webhookID, o.seqs, outbox.Transition{Kind: outbox.WebhookDeleted}, nil)
		}
	case opDiscard:
		o.n, err = w.rewrite(o.webhookID, nil, outbox.Transition{Kind: outbox.Discard}, nil)
	case opRetry, opReplay:
		err = w.reopen(o)
		if err == nil {
			return // replied by the loop
		}
	}
	if err != nil {
		w.e.logger.Error("storing a delivery change failed", "webhook", o.webhookID, "err", err)
	}
	if o.reply != nil {
		o.reply <- err
	}
}

// rewrite applies t to the deliveries seqs of webhook id (all its
// unfinished ones if seqs is empty), stores those it changes in chunks,
// and hands each stored chunk to then, if set. It returns how many it
// changed.
func (w *writer) rewrite(id string, seqs []event.Seq, t outbox.Transition, then func([]outbox.Delivery)) (int, error) {
	var chunk []outbox.Delivery
	var us []outbox.Update
	n := 0
	flush := func() error {
		if len(us) == 0 {
			return nil
		}
		if err := w.e.opts.Deliveries.UpdateDeliveries(w.ctx, us); err != nil {
			return err
		}
		n += len(us)
		if then != nil {
			then(chunk)
		}
		chunk, us = nil, nil
		w.between()
		return nil
	}
	now := w.e.now()
	step := func(d outbox.Delivery) error {
		d, fx := outbox.Step(d, t, now, outbox.Policy{})
		if !fx.Write {
			return nil
		}
		chunk = append(chunk, d)
		us = append(us, outbox.Update{Delivery: d})
		if len(us) >= rewriteChunk {
			return flush()
		}
		return nil
	}
	if len(seqs) == 0 {
		if err := w.e.opts.Deliveries.Unfinished(w.ctx, id, step); err != nil {
			return n, err
		}
	}
	for _, seq := range seqs {
		d, err := w.e.opts.Deliveries.Delivery(w.ctx, (&outbox.Delivery{EventSeq: seq, WebhookID: id}).ID())
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if err := step(d); err != nil {
			return n, err
		}
	}
	return n, flush()
}

// resume makes parked deliveries of webhook id pending and hands them to
// the loop, if the webhook is enabled.
func (w *writer) resume(id string, seqs []event.Seq) error {
	if !w.enabled[id] {
		return nil
	}
	_, err := w.rewrite(id, seqs, outbox.Transition{Kind: outbox.WebhookEnabled}, func(ds []outbox.Delivery) {
		w.e.toLoop(func() { w.e.queue(ds, nil, false) })
	})
	return err
}

// webhookChanged reads webhook o.webhookID and brings its deliveries in
// line: closed if it was deleted, resumed if it was enabled, parked if it
// was disabled. The loop learns of the webhook and replies; a failure to
// rewrite its deliveries is logged, and the next start repairs it.
func (w *writer) webhookChanged(o *op) {
	id := o.webhookID
	wh, err := w.e.opts.Webhooks.Webhook(w.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		delete(w.enabled, id)
		w.e.toLoop(func() { w.e.removeHook(id); o.reply <- nil })
		if _, err := w.rewrite(id, nil, outbox.Transition{Kind: outbox.WebhookDeleted}, nil); err != nil {
			w.e.logger.Error("closing the deliveries of a deleted webhook failed; the next start closes them", "webhook", id, "err", err)
		}
		return
	}
	if err != nil {
		o.reply <- fmt.Errorf("delivery: reload webhook %s: %w", id, err)
		return
	}
	was, known := w.enabled[id]
	w.enabled[id] = wh.Enabled
	if !wh.Enabled && known && was {
		if _, err := w.rewrite(id, nil, outbox.Transition{Kind: outbox.WebhookDisabled, Reason: outbox.ReasonOperator}, nil); err != nil {
			w.e.logger.Error("parking the deliveries of a disabled webhook failed; the next start parks them", "webhook", id, "err", err)
		}
	}
	// The loop learns of the webhook first, so that the deliveries resumed
	// below find it enabled.
	w.e.toLoop(func() { w.e.webhookStored(wh); o.reply <- nil })
	if wh.Enabled && (!known || !was) {
		if err := w.resume(id, nil); err != nil {
			w.e.logger.Error("resuming the parked deliveries of an enabled webhook failed; the next start resumes them", "webhook", id, "err", err)
		}
	}
}

// disable stores the loop's decision to disable webhook id, parks its
// deliveries and reports it.
func (w *writer) disable(id, reason string) error {
	updated, err := w.e.opts.Webhooks.MutateWebhook(w.ctx, id, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur == nil {
			return nil, nil
		}
		next := *cur
		next.Enabled, next.DisabledReason, next.UpdatedAt = false, reason, w.e.now().UTC()
		return &next, nil
	})
	if err != nil || updated == nil {
		return err
	}
	w.enabled[id] = false
	if _, err := w.rewrite(id, nil, outbox.Transition{Kind: outbox.WebhookDisabled, Reason: reason}, nil); err != nil {
		return err
	}
	if w.e.observes(outbox.TypeWebhookDisabled) {
		w.e.notify(outbox.TypeWebhookDisabled, opEvent{WebhookID: id, Reason: reason})
	}
	w.e.toLoop(func() { w.e.webhookStored(*updated) })
	return nil
}

// reopen stores a retry (of o.ds[0], read again) or a replay (of o.ds,
// created if new), in chunks, and has the loop queue them; the loop
// replies after the last chunk.
func (w *writer) reopen(o *op) error {
	kind := outbox.Replay
	if o.kind == opRetry {
		kind = outbox.Retry
		cur, err := w.e.opts.Deliveries.Delivery(w.ctx, o.ds[0].ID())
		if err != nil {
			return fmt.Errorf("delivery: retry %s: %w", o.ds[0].ID(), err)
		}
		o.ds = []outbox.Delivery{cur}
	}
	all := o.ds
	if len(all) == 0 {
		o.reply <- nil
		return nil
	}
	for start := 0; start < len(all); start += rewriteChunk {
		ds := all[start:min(start+rewriteChunk, len(all))]
		if kind == outbox.Replay {
			if _, err := w.e.opts.Deliveries.CreateDeliveries(w.ctx, ds); err != nil {
				return fmt.Errorf("delivery: replay: %w", err)
			}
		}
		now := w.e.now()
		us := make([]outbox.Update, 0, len(ds))
		out := make([]outbox.Delivery, 0, len(ds))
		for _, d := range ds {
			d, fx := outbox.Step(d, outbox.Transition{Kind: kind}, now, outbox.Policy{})
			if fx.Write {
				us = append(us, outbox.Update{Delivery: d})
				out = append(out, d)
			}
		}
		if err := w.e.opts.Deliveries.UpdateDeliveries(w.ctx, us); err != nil {
			return fmt.Errorf("delivery: %s: %w", kind, err)
		}
		if kind == outbox.Retry {
			o.ds = out
		}
		last := start+rewriteChunk >= len(all)
		w.e.toLoop(func() {
			w.e.queue(out, nil, false)
			if last {
				o.reply <- nil
			}
		})
		if !last {
			w.between()
		}
	}
	return nil
}

// between stores, in the middle of a long rewrite (parking, resuming or
// replaying thousands of deliveries), the attempt outcomes and fan-out
// creates queued meanwhile, so one webhook's rewrite does not hold back
// every other webhook's deliveries. They may go before the other ops
// queued with them: a create or an outcome never depends on those (a park
// that follows still reads what they wrote).
func (w *writer) between() {
	w.mu.Lock()
	var keep, run []*op
	for _, o := range w.q {
		if o.kind == opOutcome || o.kind == opCreate {
			run = append(run, o)
		} else {
			keep = append(keep, o)
		}
	}
	w.q = keep
	w.mu.Unlock()
	w.batch(run)
}

// toLoop hands f to the loop, unless the loop has stopped (shutdown: what
// f would tell it is stored, and the next start reads it back).
func (e *Engine) toLoop(f func()) {
	select {
	case e.cmds <- f:
	case <-e.loopDone:
	}
}

// await submits o to the writer and waits for its reply.
func (e *Engine) await(ctx context.Context, o *op) error {
	o.reply = make(chan error, 1)
	if !e.w.submit(o) {
		return errStopped
	}
	select {
	case err := <-o.reply:
		return err
	case <-e.loopDone:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}
