package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// sweepEvery is how often retention runs.
const sweepEvery = 10 * time.Minute

// sweep enforces delivery.retention until ctx ends: finished deliveries,
// their attempts and their events are removed once older than retention.
// Work that is not finished (parked, retrying) is never removed.
func sweep(ctx context.Context, st *store.Store, b *bus.Bus, retention time.Duration, logger *slog.Logger) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := st.Sweep(ctx, time.Now().Add(-retention), b.Dispatched)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("retention sweep failed; it runs again later", "err", err)
		case res.Events > 0 || res.Kept > 0:
			logger.Info("retention sweep", "events_removed", res.Events, "deliveries_removed", res.Deliveries, "old_events_kept_for_unfinished_work", res.Kept)
		}
		st.CollectGarbage()
		t.Reset(sweepEvery)
	}
}
