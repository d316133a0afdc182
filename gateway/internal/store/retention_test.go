package store

import (
	"context"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_Sweep checks that retention removes old events whose
// deliveries are finished, keeps those with unfinished work, and leaves
// newer events alone.
func TestStore_Sweep(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(Options{Path: t.TempDir(), Now: func() time.Time { return clock }})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	old, err := s.Append(ctx, []Draft{{Type: "a", Data: []byte(`1`)}, {Type: "a", Data: []byte(`2`), ID: "client-2", IdemKey: "id:client-2"}, {Type: "a", Data: []byte(`3`)}})
	require.NoError(t, err)
	clock = clock.Add(10 * 24 * time.Hour)
	fresh, err := s.Append(ctx, []Draft{{Type: "a", Data: []byte(`4`)}})
	require.NoError(t, err)

	mk := func(a Appended, wh, status string, attempts int) outbox.Delivery {
		return outbox.Delivery{EventSeq: a.Event.Seq, EventID: a.Event.ID, EventType: "a", WebhookID: wh, Status: status, Attempts: attempts}
	}
	ds := []outbox.Delivery{
		mk(old[0], "wh_a", outbox.StatusSucceeded, 2),
		mk(old[0], "wh_b", outbox.StatusDead, 1),
		mk(old[1], "wh_a", outbox.StatusSucceeded, 1),
		mk(old[2], "wh_a", outbox.StatusParked, 0), // unfinished: keeps event 3
		mk(fresh[0], "wh_a", outbox.StatusSucceeded, 1),
	}
	_, err = s.CreateDeliveries(ctx, ds)
	require.NoError(t, err)
	for _, d := range ds {
		for n := 1; n <= d.Attempts; n++ {
			require.NoError(t, s.UpdateDeliveries(ctx, []outbox.Update{{Delivery: d, Attempt: &outbox.Attempt{N: n}}}))
		}
	}

	all := func(event.Seq) bool { return true }
	res, err := s.Sweep(ctx, clock.Add(-7*24*time.Hour), all)
	require.NoError(t, err)
	require.Equal(t, SweepResult{Events: 2, Deliveries: 3, Kept: 1}, res)

	for _, id := range []string{old[0].Event.ID, "client-2"} {
		_, err := s.Event(ctx, id)
		require.ErrorIs(t, err, ErrNotFound)
	}
	for _, id := range []string{old[2].Event.ID, fresh[0].Event.ID} {
		_, err := s.Event(ctx, id)
		require.NoError(t, err)
	}
	left, _, err := s.Deliveries(ctx, DeliveryQuery{Limit: 100})
	require.NoError(t, err)
	require.Equal(t, 2, len(left))
	atts, err := s.Attempts(ctx, old[0].Event.Seq, "wh_a")
	require.NoError(t, err)
	require.Equal(t, 0, len(atts))

	// Not yet dispatched: nothing goes, however old.
	s2res, err := s.Sweep(ctx, clock.Add(time.Hour), func(event.Seq) bool { return false })
	require.NoError(t, err)
	require.Equal(t, SweepResult{}, s2res)
}
