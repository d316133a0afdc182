package delivery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// TestEngine_Replay_notYetDispatched replays a range holding events that
// fan-out has not handled yet: the plugin pipeline has not judged them (a
// filter may still deny them), so the replay must leave them to fan-out.
// The bus is not running here, so fan-out happens only when the test calls
// Handle and saves the cursor, as the bus does.
func TestEngine_Replay_notYetDispatched(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(store.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	var received atomic.Int32
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
	}))
	t.Cleanup(rc.Close)

	now := time.Now().UTC()
	wh := webhook.Webhook{ID: "wh_replay", URL: rc.URL, EventTypes: []string{">"}, Enabled: true,
		Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	_, err = st.MutateWebhook(ctx, wh.ID, func(*webhook.Webhook) (*webhook.Webhook, error) { return &wh, nil })
	require.NoError(t, err)

	var dialer net.Dialer
	e := New(Options{
		Deliveries: st, Events: st, Webhooks: st, Dial: dialer.DialContext,
		Workers: 2, Timeout: 30 * time.Second, RetrySchedule: []time.Duration{time.Hour},
		MaxInFlight: 2, BreakerFailures: 5, DisableAfter: time.Hour, ShutdownGrace: 30 * time.Second,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, e.Start(ctx))
	t.Cleanup(e.Close)

	appended, err := st.Append(ctx, []store.Draft{{Type: "a.b", Data: []byte(`{"n":1}`)}, {Type: "a.b", Data: []byte(`{"n":2}`)}})
	require.NoError(t, err)
	evs := make([]event.Event, len(appended))
	ds := make([]store.Delivery, len(appended))
	for i, a := range appended {
		evs[i] = a.Event
		ds[i] = store.Delivery{EventSeq: a.Event.Seq, EventID: a.Event.ID, EventType: a.Event.Type, WebhookID: wh.ID}
	}

	// Nothing is dispatched yet: the replay sends nothing.
	res, err := e.Replay(ctx, wh, ds)
	require.NoError(t, err)
	require.Equal(t, ReplayResult{NotYetDispatched: 2}, res)
	for _, d := range ds {
		_, err := st.Delivery(ctx, d.ID())
		require.ErrorIs(t, err, store.ErrNotFound)
	}

	// Fan-out handles the first event, and the bus saves its cursor: that
	// one can be replayed now, the second still cannot.
	require.NoError(t, e.Handle(ctx, evs[:1]))
	require.NoError(t, st.SetCursor(ctx, SubscriptionName, evs[0].Seq))
	require.Eventually(t, "the first event's delivery to succeed", func() bool {
		d, err := st.Delivery(ctx, ds[0].ID())
		return err == nil && d.Status == store.StatusSucceeded
	})
	res, err = e.Replay(ctx, wh, ds)
	require.NoError(t, err)
	require.Equal(t, ReplayResult{Replayed: 1, NotYetDispatched: 1}, res)
	require.Eventually(t, "the replayed delivery to be sent again", func() bool { return received.Load() == 2 })
	_, err = st.Delivery(ctx, ds[1].ID())
	require.ErrorIs(t, err, store.ErrNotFound)
}
