package delivery

import (
	"bytes"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestSigner_Sign_allocs pins the hot path's allocations: the returned
// string is the only one, for either scheme and any number of keys; the HMAC
// states and the signed-content buffer come from the Signer's pools.
func TestSigner_Sign_allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	body := bytes.Repeat([]byte("b"), 4<<10)
	tests := []struct {
		name string
		keys []Key
	}{
		{"v1", []Key{refSecret}},
		{"v1a", []Key{refKey}},
		{"v1 and v1a", []Key{refSecret, refKey}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.keys...)
			require.NoError(t, err)
			ts := time.Unix(refTimestamp, 0)
			s.Sign(refMsgID, ts, body) // fill the pools
			allocs := testing.AllocsPerRun(100, func() { s.Sign(refMsgID, ts, body) })
			require.True(t, allocs <= 1, "Sign allocated %v times per call, want 1", allocs)
		})
	}
}
