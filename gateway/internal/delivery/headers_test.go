package delivery

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// TestEngine_reservedHeadersNotSent: a webhook stored before the API
// refused hop-by-hop and Expect headers still has them; they are not sent
// (Expect: 100-continue held every delivery for a second), the others are.
func TestEngine_reservedHeadersNotSent(t *testing.T) {
	r := newRig(t, Options{}, func(w *webhook.Webhook) {
		w.Headers = map[string]string{"Expect": "100-continue", "Upgrade": "h2c", "TE": "trailers", "X-Team": "growth"}
	})
	evs, ds := r.publish(t, `{"n":1}`)
	require.NoError(t, r.e.Handle(context.Background(), evs))
	require.Eventually(t, "the delivery to succeed", func() bool {
		return r.delivery(t, ds[0]).Status == outbox.StatusSucceeded
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.headers[0]
	require.Equal(t, "growth", h.Get("X-Team"))
	require.Equal(t, "", h.Get("Expect"))
	require.Equal(t, "", h.Get("Upgrade"))
	require.Equal(t, "", h.Get("TE"))
}
