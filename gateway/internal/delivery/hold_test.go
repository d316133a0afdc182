package delivery

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
	"github.com/eventgw/gateway/sdk/abi"
)

// stampTransform is a transform plugin that replaces the data with
// {"stamped":true}.
type stampTransform struct{}

func (stampTransform) Filter(context.Context, abi.Meta, []byte) (int32, string, error) {
	return abi.Allow, "", nil
}

func (stampTransform) Transform(context.Context, abi.Meta, []byte) (int32, []byte, error) {
	return abi.Replaced, []byte(`{"stamped":true}`), nil
}

// TestEngine_TransformsChanged holds the deliveries of a webhook whose
// transform plugin is not loaded: none is sent, no attempt is counted,
// the first re-check is an hour away (TransformRecheck), and loading the
// plugin (TransformsChanged) sends them at once, transformed.
func TestEngine_TransformsChanged(t *testing.T) {
	ctx := context.Background()
	var loaded atomic.Bool
	lookup := func(name string) (pipeline.Stage, bool) {
		if name != "stamp" || !loaded.Load() {
			return pipeline.Stage{}, false
		}
		return pipeline.Stage{Name: "stamp", Kind: abi.KindTransform, OnError: pipeline.OnErrorDrop, Plugin: stampTransform{}}, true
	}
	r := newRig(t, Options{Transform: lookup, TransformRecheck: time.Hour}, func(w *webhook.Webhook) {
		w.Delivery.Transform = "stamp"
	})

	evs, ds := r.publish(t, `{"card":"1"}`, `{"card":"2"}`, `{"card":"3"}`)
	require.NoError(t, r.e.Handle(ctx, evs))
	for _, d := range ds {
		require.Eventually(t, "the delivery to say why it waits", func() bool {
			return r.delivery(t, d).LastError != ""
		})
		got := r.delivery(t, d)
		require.Equal(t, outbox.StatusPending, got.Status)
		require.Equal(t, 0, got.Attempts)
		require.Contains(t, got.LastError, `"stamp"`)
	}
	p, err := r.e.Paused(ctx, r.wh.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(p.Reason, transformPausePrefix), "pause reason %q", p.Reason)
	require.True(t, time.Until(p.Until) > 30*time.Minute, "paused until %s: the first re-check is an hour away", p.Until)
	require.Equal(t, 0, r.received())
	// The three came back from one round of checks: one check, not three,
	// for the backoff.
	var misses int
	require.NoError(t, r.e.do(ctx, func() { misses = r.e.sched.Misses(r.wh.ID) }))
	require.Equal(t, 1, misses, "checks counted")

	loaded.Store(true)
	require.NoError(t, r.e.TransformsChanged(ctx))
	for _, d := range ds {
		require.Eventually(t, "the held delivery to succeed", func() bool {
			return r.delivery(t, d).Status == outbox.StatusSucceeded
		})
		require.Equal(t, 1, r.delivery(t, d).Attempts)
	}
	require.Equal(t, 3, r.received())
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bodies {
		require.Contains(t, string(b), `"data":{"stamped":true}`)
	}
	p, err = r.e.Paused(ctx, r.wh.ID)
	require.NoError(t, err)
	require.Equal(t, Pause{}, p)
}

// TestTransformRecheck checks the backoff of the re-checks: doubling from
// the first wait, capped at 60 times it.
func TestTransformRecheck(t *testing.T) {
	for misses, want := range []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60} {
		require.Equal(t, want*time.Second, transformRecheck(time.Second, misses), "misses %d", misses)
	}
}
