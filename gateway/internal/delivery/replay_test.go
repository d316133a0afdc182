package delivery

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// TestEngine_Replay_notYetDispatched replays a range holding events that
// fan-out has not handled yet: the plugin pipeline has not judged them (a
// filter may still deny them), so the replay must leave them to fan-out.
// Fan-out happens only when the test calls Handle and saves the cursor, as
// the bus does.
func TestEngine_Replay_notYetDispatched(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Options{}, nil)
	evs, ds := r.publish(t, `{"n":1}`, `{"n":2}`)

	// Nothing is dispatched yet: the replay sends nothing.
	res, err := r.e.Replay(ctx, r.wh, ds)
	require.NoError(t, err)
	require.Equal(t, ReplayResult{NotYetDispatched: 2}, res)
	for _, d := range ds {
		_, err := r.st.Delivery(ctx, d.ID())
		require.ErrorIs(t, err, store.ErrNotFound)
	}

	// Fan-out handles the first event, and the bus saves its cursor: that
	// one can be replayed now, the second still cannot.
	require.NoError(t, r.e.Handle(ctx, evs[:1]))
	require.NoError(t, r.st.SetCursor(ctx, SubscriptionName, evs[0].Seq))
	require.Eventually(t, "the first event's delivery to succeed", func() bool {
		return r.delivery(t, ds[0]).Status == outbox.StatusSucceeded
	})
	res, err = r.e.Replay(ctx, r.wh, ds)
	require.NoError(t, err)
	require.Equal(t, ReplayResult{Replayed: 1, NotYetDispatched: 1}, res)
	require.Eventually(t, "the replayed delivery to be sent again", func() bool { return r.received() == 2 })
	_, err = r.st.Delivery(ctx, ds[1].ID())
	require.ErrorIs(t, err, store.ErrNotFound)
}
