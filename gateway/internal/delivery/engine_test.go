package delivery

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// TestEngine_retryWaitsForTheClock: a failed delivery waits for its retry
// on the engine's clock, not the wall clock: nothing is sent until the
// fake clock passes its next_attempt_at, then it is, at once.
func TestEngine_retryWaitsForTheClock(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	r := newRig(t, Options{Now: clk.Now}, nil)
	r.status.Store(http.StatusInternalServerError)
	evs, ds := r.publish(t, `{"n":1}`)
	require.NoError(t, r.e.Handle(ctx, evs))
	require.Eventually(t, "the first attempt to fail", func() bool { return r.delivery(t, ds[0]).Status == outbox.StatusFailed })
	d := r.delivery(t, ds[0])
	wait := d.NextAttemptAt.Sub(clk.Now())
	require.True(t, wait >= 48*time.Minute && wait <= 72*time.Minute, "next attempt in %s, want 1h ±20%%", wait)

	r.status.Store(http.StatusOK)
	clk.Add(wait - time.Second)
	r.settle(t)
	require.Equal(t, 1, r.received())
	st := r.stats(t)
	require.Equal(t, 1, st.Queued)
	require.Equal(t, 0, st.InFlight)

	clk.Add(2 * time.Second)
	r.settle(t)
	require.Eventually(t, "the retry to succeed", func() bool { return r.delivery(t, ds[0]).Status == outbox.StatusSucceeded })
	require.Equal(t, 2, r.delivery(t, ds[0]).Attempts)
	require.Equal(t, 2, r.received())
}

// TestEngine_goneDisablesAndParks: a 410 Gone disables the webhook (on
// record, with the reason) and parks every delivery it had, the queued ones
// included; nothing more is sent.
func TestEngine_goneDisablesAndParks(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Options{}, func(w *webhook.Webhook) { w.Delivery.MaxInFlight = 1 })
	r.status.Store(http.StatusGone)
	evs, ds := r.publish(t, `{"n":1}`, `{"n":2}`, `{"n":3}`)
	require.NoError(t, r.e.Handle(ctx, evs))
	require.Eventually(t, "every delivery to be parked", func() bool {
		for _, d := range ds {
			if r.delivery(t, d).Status != outbox.StatusParked {
				return false
			}
		}
		return true
	})
	wh, err := r.st.Webhook(ctx, r.wh.ID)
	require.NoError(t, err)
	require.False(t, wh.Enabled, "the webhook is still enabled")
	require.Equal(t, outbox.ReasonGone, wh.DisabledReason)
	require.Equal(t, 1, r.received())
	require.Equal(t, 1, r.delivery(t, ds[0]).Attempts)
	for _, d := range ds[1:] {
		got := r.delivery(t, d)
		require.Equal(t, 0, got.Attempts)
		require.Equal(t, outbox.NoteWebhookDisabled+": "+outbox.ReasonGone, got.Note)
	}
	r.settle(t)
	require.Equal(t, 0, r.stats(t).Queued)
}

// TestEngine_Start_rebuildsSchedule: at start the engine rebuilds its
// schedule from the store alone: a pending delivery is sent, a failed one
// waits for its time, a parked one of an enabled webhook (a resume the
// crash cut short) is resumed, and one of a deleted webhook is closed.
func TestEngine_Start_rebuildsSchedule(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	var ds []outbox.Delivery
	r := newRigWith(t, Options{Now: clk.Now}, nil, rigOptions{beforeStart: func(r *rig) {
		_, seeds := r.publish(t, `{"n":"pending"}`, `{"n":"failed"}`, `{"n":"parked"}`, `{"n":"orphan"}`)
		seeds[0].Status = outbox.StatusPending
		seeds[1].Status, seeds[1].Attempts, seeds[1].NextAttemptAt = outbox.StatusFailed, 1, clk.Now().Add(time.Hour)
		seeds[2].Status = outbox.StatusParked
		seeds[3].Status, seeds[3].WebhookID = outbox.StatusPending, "wh_deleted"
		_, err := r.st.CreateDeliveries(ctx, seeds)
		require.NoError(t, err)
		ds = seeds
	}})
	require.Eventually(t, "the pending and the parked delivery to be sent", func() bool {
		return r.delivery(t, ds[0]).Status == outbox.StatusSucceeded && r.delivery(t, ds[2]).Status == outbox.StatusSucceeded
	})
	require.Eventually(t, "the orphan to be closed", func() bool { return r.delivery(t, ds[3]).Status == outbox.StatusDead })
	require.Equal(t, outbox.NoteWebhookDeleted, r.delivery(t, ds[3]).Note)
	r.settle(t)
	require.Equal(t, outbox.StatusFailed, r.delivery(t, ds[1]).Status)
	require.Equal(t, 2, r.received())

	clk.Add(time.Hour)
	r.settle(t)
	require.Eventually(t, "the failed delivery to be retried at its time", func() bool {
		return r.delivery(t, ds[1]).Status == outbox.StatusSucceeded
	})
	require.Equal(t, 3, r.received())
}

// TestEngine_busyWorkersArmNoTimer: while every worker is busy, due
// deliveries wait for a worker, not for a time, so the loop must not arm
// its timer for a time already past: such a timer fires at once, and again
// after every dispatch, a wake-up storm that took half the gateway's CPU
// at fan-out 100.
func TestEngine_busyWorkersArmNoTimer(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	release := make(chan struct{})
	r := newRig(t, Options{Now: clk.Now, Workers: 1}, nil)
	r.hold.Store(&release)
	t.Cleanup(func() { close(release) })
	evs, _ := r.publish(t, `{"n":1}`, `{"n":2}`, `{"n":3}`)
	require.NoError(t, r.e.Handle(ctx, evs))
	require.Eventually(t, "one attempt to be in flight", func() bool { return r.stats(t).InFlight == 1 })
	r.settle(t)
	var armed time.Time
	require.NoError(t, r.e.do(ctx, func() { armed = r.e.armed }))
	require.True(t, armed.IsZero() || armed.After(clk.Now()),
		"with the only worker busy the timer is armed for %s, not after now (%s)", armed, clk.Now())
}
