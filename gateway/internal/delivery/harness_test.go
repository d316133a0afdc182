package delivery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/delivery/schedule"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// rig is an engine on a real Badger store in a temp dir, with one webhook
// whose endpoint is a loopback receiver that records the bodies it gets.
// The bus does not run: a test calls Handle (fan-out) itself.
type rig struct {
	st *store.Store
	e  *Engine
	wh webhook.Webhook

	// status, if set, is what the receiver answers (default 200).
	status atomic.Int32
	// hold, if set, is a channel the receiver waits on before it answers.
	hold atomic.Pointer[chan struct{}]

	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

// rigOptions are the rig's own settings, beside the engine's.
type rigOptions struct {
	// beforeStart runs after the webhook is stored and before the engine
	// starts: a test seeds the store here.
	beforeStart func(r *rig)
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// settle makes the loop look at its schedule again (after the clock moved)
// and returns once it has.
func (r *rig) settle(t *testing.T) {
	t.Helper()
	// The loop runs dispatch after each command: the second command
	// returns after the dispatch that followed the first.
	require.NoError(t, r.e.do(context.Background(), func() {}))
	require.NoError(t, r.e.do(context.Background(), func() {}))
}

// stats returns the scheduler's counts for the rig's webhook.
func (r *rig) stats(t *testing.T) (st schedule.Stats) {
	t.Helper()
	require.NoError(t, r.e.do(context.Background(), func() { st = r.e.sched.Stats(r.wh.ID) }))
	return st
}

// newRig starts the engine with opts (Deliveries, Events, Webhooks, Dial
// and the limits are filled in) and a webhook changed by setup.
func newRig(t *testing.T, opts Options, setup func(*webhook.Webhook)) *rig {
	t.Helper()
	return newRigWith(t, opts, setup, rigOptions{})
}

// newRigWith is newRig with the rig's own options.
func newRigWith(t *testing.T, opts Options, setup func(*webhook.Webhook), ro rigOptions) *rig {
	t.Helper()
	r := &rig{}
	var err error
	r.st, err = store.Open(store.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.st.Close() })

	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		if h := r.hold.Load(); h != nil {
			<-*h
		}
		if s := r.status.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
	}))
	t.Cleanup(rc.Close)

	now := time.Now().UTC()
	r.wh = webhook.Webhook{ID: "wh_rig", URL: rc.URL, EventTypes: []string{">"}, Enabled: true,
		Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if setup != nil {
		setup(&r.wh)
	}
	_, err = r.st.MutateWebhook(context.Background(), r.wh.ID, func(*webhook.Webhook) (*webhook.Webhook, error) { return &r.wh, nil })
	require.NoError(t, err)

	if opts.Dial == nil {
		var dialer net.Dialer
		opts.Dial = dialer.DialContext
	}
	opts.Deliveries, opts.Events, opts.Webhooks = r.st, r.st, r.st
	if opts.Workers == 0 {
		opts.Workers = 4
	}
	opts.Timeout, opts.MaxInFlight = 30*time.Second, 4
	opts.RetrySchedule = []time.Duration{time.Hour}
	opts.BreakerFailures, opts.DisableAfter, opts.ShutdownGrace = 5, time.Hour, 30*time.Second
	opts.Logger = slog.New(slog.DiscardHandler)
	if ro.beforeStart != nil {
		ro.beforeStart(r)
	}
	r.e = New(opts)
	require.NoError(t, r.e.Start(context.Background()))
	t.Cleanup(r.e.Close)
	return r
}

// publish appends events of type a.b with the given data to the store and
// returns them, with the delivery each would get to the rig's webhook.
func (r *rig) publish(t *testing.T, data ...string) ([]event.Event, []outbox.Delivery) {
	t.Helper()
	drafts := make([]store.Draft, len(data))
	for i, d := range data {
		drafts[i] = store.Draft{Type: "a.b", Data: []byte(d)}
	}
	appended, err := r.st.Append(context.Background(), drafts)
	require.NoError(t, err)
	evs := make([]event.Event, len(appended))
	ds := make([]outbox.Delivery, len(appended))
	for i, a := range appended {
		evs[i] = a.Event
		ds[i] = outbox.Delivery{EventSeq: a.Event.Seq, EventID: a.Event.ID, EventType: a.Event.Type, WebhookID: r.wh.ID}
	}
	return evs, ds
}

// received returns how many requests the receiver got.
func (r *rig) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// delivery reads d back from the store.
func (r *rig) delivery(t *testing.T, d outbox.Delivery) outbox.Delivery {
	t.Helper()
	got, err := r.st.Delivery(context.Background(), d.ID())
	require.NoError(t, err)
	return got
}
