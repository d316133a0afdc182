package delivery

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// TestEngine_enqueue_heldBytes: queued first attempts carry their events
// only up to about 16 MiB of data; the others read their event back when
// they are sent, so a slow endpoint behind 1 MiB events does not pin
// thousands of them in memory.
func TestEngine_enqueue_heldBytes(t *testing.T) {
	e := New(Options{Logger: slog.New(slog.DiscardHandler)})
	now := time.Now().UTC()
	wh := webhook.Webhook{ID: "wh_1", URL: "http://127.0.0.1:1/", EventTypes: []string{">"}, Enabled: true,
		Secret: webhook.NewSecret(), CreatedAt: now, UpdatedAt: now}
	e.queues[wh.ID] = e.newQueue(wh)

	gen := event.NewIDGen(nil)
	data := []byte(`"` + strings.Repeat("x", 1<<20) + `"`)
	var ds []outbox.Delivery
	evs := make(map[event.Seq]*outgoing)
	for range 40 {
		seq := gen.Next()
		ds = append(ds, outbox.Delivery{EventSeq: seq, WebhookID: wh.ID, Status: outbox.StatusPending, NextAttemptAt: now})
		evs[seq] = &outgoing{ev: event.Event{Seq: seq, Type: "a.b", Data: data}}
	}
	e.enqueue(context.Background(), ds, evs)

	held, heldBytes := 0, 0
	for _, it := range e.queues[wh.ID].items.list {
		if it.ev != nil {
			held++
			heldBytes += len(it.ev.ev.Data)
		}
	}
	require.True(t, heldBytes <= 17<<20, "queued deliveries hold %d events, %d bytes of data; want at most about 16 MiB", held, heldBytes)
	require.Equal(t, 40, len(e.queues[wh.ID].items.list))
}
