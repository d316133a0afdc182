package store

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_Waiting checks that the scan the scheduler rebuilds itself from
// yields every unfinished delivery with its due time and whether it is
// parked, reading only the u/ index, and that entries written in the older
// empty-value format are read through their record.
func TestStore_Waiting(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	res := appendOK(t, s, draft("a.b", `1`), draft("a.b", `2`), draft("a.b", `3`), draft("a.b", `4`))
	due := time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)
	mk := func(i int, wh, status string, next time.Time) outbox.Delivery {
		return outbox.Delivery{EventSeq: res[i].Event.Seq, EventID: res[i].Event.ID, WebhookID: wh, Status: status, NextAttemptAt: next}
	}
	ds := []outbox.Delivery{
		mk(0, "wh_a", outbox.StatusPending, time.Time{}),
		mk(1, "wh_a", outbox.StatusFailed, due),
		mk(2, "wh_a", outbox.StatusSucceeded, time.Time{}),
		mk(3, "wh_a", outbox.StatusParked, time.Time{}),
		mk(0, "wh_b", outbox.StatusPending, time.Time{}),
	}
	_, err := s.CreateDeliveries(ctx, ds)
	require.NoError(t, err)
	// An entry as the previous format wrote it: an empty value.
	require.NoError(t, s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(webhookIndexKey(prefixUnfinished, "wh_b", res[0].Event.Seq), nil)
	}))
	// A delivery that finishes leaves the index.
	done := ds[0]
	done.Status = outbox.StatusSucceeded
	require.NoError(t, s.UpdateDeliveries(ctx, []outbox.Update{{Delivery: done}}))

	var got []outbox.Waiting
	require.NoError(t, s.Waiting(ctx, func(w outbox.Waiting) error { got = append(got, w); return nil }))
	want := []outbox.Waiting{
		{WebhookID: "wh_a", EventSeq: res[1].Event.Seq, Due: due},
		{WebhookID: "wh_a", EventSeq: res[3].Event.Seq, Parked: true},
		{WebhookID: "wh_b", EventSeq: res[0].Event.Seq},
	}
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i].WebhookID, got[i].WebhookID)
		require.Equal(t, want[i].EventSeq, got[i].EventSeq)
		require.Equal(t, want[i].Parked, got[i].Parked)
		require.True(t, want[i].Due.Equal(got[i].Due), "entry %d due %v, want %v", i, got[i].Due, want[i].Due)
	}
}
