package delivery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
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

	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

// newRig starts the engine with opts (Deliveries, Events, Webhooks, Dial
// and the limits are filled in) and a webhook changed by setup.
func newRig(t *testing.T, opts Options, setup func(*webhook.Webhook)) *rig {
	t.Helper()
	r := &rig{}
	var err error
	r.st, err = store.Open(store.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.st.Close() })

	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
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
	opts.Workers, opts.Timeout, opts.MaxInFlight = 4, 30*time.Second, 4
	opts.RetrySchedule = []time.Duration{time.Hour}
	opts.BreakerFailures, opts.DisableAfter, opts.ShutdownGrace = 5, time.Hour, 30*time.Second
	opts.Logger = slog.New(slog.DiscardHandler)
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
