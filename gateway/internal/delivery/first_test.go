package delivery

import (
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestFirstAttempts_bounded: queued first attempts carry their events only
// up to maxFirstBytes of data (and maxFirstEvents events); the others read
// their event back when they are sent, so a slow endpoint behind 1 MiB
// events does not pin thousands of them in memory.
func TestFirstAttempts_bounded(t *testing.T) {
	f := newFirstAttempts()
	gen := event.NewIDGen(nil)
	data := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	var seqs []event.Seq
	for range 40 {
		seq := gen.Next()
		seqs = append(seqs, seq)
		f.hold(outbox.Delivery{EventSeq: seq, WebhookID: "wh_1"}, &outgoing{ev: event.Event{Seq: seq, Data: data}})
	}
	require.True(t, f.bytes <= maxFirstBytes, "held %d bytes, want at most %d", f.bytes, maxFirstBytes)
	require.Equal(t, maxFirstBytes/len(data), len(f.m))

	// Taking one frees its room; forgetting a webhook frees all of its.
	require.True(t, f.take("wh_1", seqs[0]) != nil, "the first delivery's event is held")
	require.True(t, f.take("wh_1", seqs[0]) == nil, "taken twice")
	require.True(t, f.take("wh_1", seqs[39]) == nil, "the 40th did not fit")
	f.drop("wh_1")
	require.Equal(t, 0, len(f.m))
	require.Equal(t, 0, f.bytes)

	small := &outgoing{ev: event.Event{Data: []byte(`1`)}}
	for range maxFirstEvents + 10 {
		f.hold(outbox.Delivery{EventSeq: gen.Next(), WebhookID: "wh_2"}, small)
	}
	require.Equal(t, maxFirstEvents, len(f.m))
}
