package delivery

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// dialAudit records DialBlocked calls.
type dialAudit struct {
	mu    sync.Mutex
	lines []string
}

func (a *dialAudit) DialBlocked(webhookID, host, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lines = append(a.lines, webhookID+" "+host+" "+reason)
}

func (a *dialAudit) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.lines, "\n")
}

// TestEngine_dialBlockedAudited: an attempt the egress guard refuses to
// connect (the rig's receiver is on loopback, which the default policy
// blocks) fails as before, and leaves one audit line naming the webhook,
// the host and the reason.
func TestEngine_dialBlockedAudited(t *testing.T) {
	var policy egress.Policy // the default: loopback is blocked
	aud := &dialAudit{}
	r := newRig(t, Options{Dial: policy.DialContext, Audit: aud}, nil)

	evs, ds := r.publish(t, `{"n":1}`)
	require.NoError(t, r.e.Handle(context.Background(), evs))
	require.Eventually(t, "the attempt to fail", func() bool {
		return r.delivery(t, ds[0]).Status == outbox.StatusFailed
	})
	require.Contains(t, r.delivery(t, ds[0]).LastError, "delivery.allow_private")
	require.Equal(t, 0, r.received())
	require.Equal(t, "wh_rig 127.0.0.1 127.0.0.1 is a loopback address (127.0.0.0/8)", aud.String())
}
