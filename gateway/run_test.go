package gateway

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// collector is a WithSubscriber function that keeps what it is given.
type collector struct {
	mu  sync.Mutex
	evs []event.Event
}

func (c *collector) handle(_ context.Context, evs []event.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, evs...)
	return nil
}

func (c *collector) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.evs))
	for i, ev := range c.evs {
		out[i] = ev.ID
	}
	return out
}

func (c *collector) waitFor(tb testing.TB, n int) []string {
	tb.Helper()
	require.Eventually(tb, "the subscriber to receive the events", func() bool { return len(c.ids()) >= n })
	return c.ids()
}

// TestGateway_Run runs a gateway, publishes through the API, stops it by
// cancelling ctx, and runs it again on the same data directory.
func TestGateway_Run(t *testing.T) {
	s := newSite(t)
	cfg := s.config("")
	orders := &collector{}
	everything := &collector{}
	withSubs := []Option{
		WithSubscriber("orders", []string{"order.*"}, true, orders.handle),
		WithSubscriber("live", []string{">"}, false, everything.handle),
	}
	r := s.start(cfg, withSubs...)
	require.True(t, r.g.Ready(), "Ready after /readyz answered 200")
	require.Equal(t, r.base, "http://"+r.g.Addr(context.Background()).String())

	created := r.publish(t, "order.created", `{"n":1}`)
	signup := r.publish(t, "user.signup", `{"n":2}`)
	paid := r.publish(t, "order.paid", `{"n":3}`)
	require.Equal(t, "order.created order.paid", strings.Join(typesOf(t, r, orders.waitFor(t, 2)), " "))
	require.Equal(t, strings.Join([]string{created.ID, signup.ID, paid.ID}, " "), strings.Join(everything.waitFor(t, 3), " "))

	// Once the durable subscriber has handled an event its status says so.
	require.Eventually(t, "order.paid to be dispatched", func() bool {
		var v struct{ Status string }
		r.mustDo(t, http.MethodGet, "/v1/events/"+paid.ID, "", http.StatusOK, &v)
		return v.Status == event.StatusDispatched
	})

	require.NoError(t, r.stop(t))
	require.False(t, r.g.Ready(), "not Ready after Run returned")
	require.True(t, strings.Contains(s.log.String(), "msg=stopped"), "the log does not say stopped")
	require.True(t, r.g.Run(context.Background()) != nil, "a second Run of the same Gateway must fail")

	// A new gateway on the same directory sees every event, and the
	// durable subscriber resumes after what it handled: no redelivery.
	orders2, everything2 := &collector{}, &collector{}
	r = s.start(cfg,
		WithSubscriber("orders", []string{"order.*"}, true, orders2.handle),
		WithSubscriber("live", []string{">"}, false, everything2.handle))
	for _, id := range []string{created.ID, signup.ID, paid.ID} {
		var v struct{ ID, Status string }
		r.mustDo(t, http.MethodGet, "/v1/events/"+id, "", http.StatusOK, &v)
		require.Equal(t, id, v.ID)
		require.Equal(t, event.StatusDispatched, v.Status)
	}
	var page struct {
		Data []struct{ ID string } `json:"data"`
	}
	r.mustDo(t, http.MethodGet, "/v1/events?limit=10", "", http.StatusOK, &page)
	require.Equal(t, 3, len(page.Data))
	require.Equal(t, paid.ID, page.Data[0].ID)

	shipped := r.publish(t, "order.shipped", `{}`)
	require.Equal(t, shipped.ID, strings.Join(orders2.waitFor(t, 1), " "))
	require.Equal(t, shipped.ID, strings.Join(everything2.waitFor(t, 1), " "))
	require.NoError(t, r.stop(t))
}

// typesOf looks up the type of each event id through the API.
func typesOf(tb testing.TB, r *running, ids []string) []string {
	tb.Helper()
	out := make([]string, len(ids))
	for i, id := range ids {
		var v struct{ Type string }
		r.mustDo(tb, http.MethodGet, "/v1/events/"+id, "", http.StatusOK, &v)
		out[i] = v.Type
	}
	return out
}

// TestGateway_Run_pending: without durable subscribers events are
// dispatched at once; with one that holds them, they stay pending.
func TestGateway_Run_pending(t *testing.T) {
	s := newSite(t)
	block := make(chan struct{})
	r := s.start(s.config(""), WithSubscriber("stuck", []string{">"}, true, func(ctx context.Context, _ []event.Event) error {
		select {
		case <-block:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}))
	rc := r.publish(t, "a.b", `{}`)
	var v struct{ Status string }
	r.mustDo(t, http.MethodGet, "/v1/events/"+rc.ID, "", http.StatusOK, &v)
	require.Equal(t, event.StatusPending, v.Status)
	// Publishing is not held up by the stuck subscriber.
	for range 20 {
		r.publish(t, "a.b", `{}`)
	}
	close(block)
	require.Eventually(t, "the event to be dispatched", func() bool {
		r.mustDo(t, http.MethodGet, "/v1/events/"+rc.ID, "", http.StatusOK, &v)
		return v.Status == event.StatusDispatched
	})
	require.NoError(t, r.stop(t))
}

func TestGateway_Run_storeLocked(t *testing.T) {
	s := newSite(t)
	cfg := s.config("")
	r := s.start(cfg)
	// A second gateway on the same directory cannot open the store: Run
	// fails instead of serving.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := New(cfg, WithListener(ln), WithLogger(r.g.logger))
	err = g.Run(context.Background())
	require.True(t, err != nil && strings.Contains(err.Error(), "store"), "want a store error, got %v", err)
	require.NoError(t, r.stop(t))
}

func TestWithSubscriber_badPattern(t *testing.T) {
	defer func() {
		v := recover()
		require.True(t, v != nil && strings.Contains(v.(string), `"x"`), "want a panic naming the subscriber, got %v", v)
	}()
	New(nil, WithSubscriber("x", []string{"a..b"}, true, nil))
}
