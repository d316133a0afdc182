package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

func TestStore_MutateWebhook(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t, Options{})
	created := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	enabled := true

	// Create.
	var sawCur *webhook.Webhook
	w, err := s.MutateWebhook(ctx, "wh_1", func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		sawCur = cur
		return &webhook.Webhook{
			ID: "wh_1", URL: "https://example.com/a", EventTypes: []string{"a.*"},
			Headers: map[string]string{"X-Team": "growth"}, Enabled: true, Secret: "whsec_x",
			Managed: webhook.ManagedByConfig, ConfigEnabled: &enabled, CreatedAt: created, UpdatedAt: created,
		}, nil
	})
	require.NoError(t, err)
	require.True(t, sawCur == nil, "a new webhook has no current value")
	require.Equal(t, "https://example.com/a", w.URL)

	// Update sees the stored value.
	_, err = s.MutateWebhook(ctx, "wh_1", func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		require.True(t, cur != nil, "update must see the stored webhook")
		next := *cur
		next.URL = "https://example.com/b"
		next.Enabled = false
		return &next, nil
	})
	require.NoError(t, err)

	// An error from fn aborts without writing and comes back as is.
	errVeto := errors.New("veto")
	_, err = s.MutateWebhook(ctx, "wh_1", func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		next := *cur
		next.URL = "https://example.com/never"
		return &next, errVeto
	})
	require.True(t, err == errVeto, "want the error of fn itself, got %v", err)

	// It all survives a restart.
	require.NoError(t, s.Close())
	s = openAt(t, dir, Options{})
	got, err := s.Webhook(ctx, "wh_1")
	require.NoError(t, err)
	require.Equal(t, "https://example.com/b", got.URL)
	require.Equal(t, false, got.Enabled)
	require.Equal(t, "growth", got.Headers["X-Team"])
	require.Equal(t, "a.*", got.EventTypes[0])
	require.Equal(t, webhook.ManagedByConfig, got.Managed)
	require.True(t, got.ConfigEnabled != nil && *got.ConfigEnabled, "config_enabled lost")
	require.True(t, got.CreatedAt.Equal(created), "created_at %s", got.CreatedAt)

	// Delete, and deleting what does not exist is a no-op.
	for range 2 {
		w, err = s.MutateWebhook(ctx, "wh_1", func(*webhook.Webhook) (*webhook.Webhook, error) { return nil, nil })
		require.NoError(t, err)
		require.True(t, w == nil, "delete returns nil")
	}
	_, err = s.Webhook(ctx, "wh_1")
	require.ErrorIs(t, err, ErrNotFound)
	ws, more, err := s.Webhooks(ctx, "", 10)
	require.NoError(t, err)
	require.Equal(t, 0, len(ws))
	require.Equal(t, false, more)
}

// TestStore_MutateWebhook_hammer increments a counter kept in a webhook
// from many goroutines: conflicting transactions are retried, so no
// increment is lost.
func TestStore_MutateWebhook_hammer(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := s.MutateWebhook(ctx, "wh_c", func(cur *webhook.Webhook) (*webhook.Webhook, error) {
					next := webhook.Webhook{ID: "wh_c"}
					if cur != nil {
						next = *cur
					}
					next.Description += "x"
					return &next, nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	// MutateWebhook gives up after ten conflicts in a row; under this load
	// that may happen, and then the caller is told.
	lost := 0
	for err := range errs {
		require.True(t, errors.Is(err, badger.ErrConflict), "unexpected error %v", err)
		lost++
	}
	got, err := s.Webhook(ctx, "wh_c")
	require.NoError(t, err)
	require.Equal(t, workers*each-lost, len(got.Description))
}

func TestStore_Webhooks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, Options{})
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("wh_%02d", i)
		ids = append(ids, id)
		_, err := s.MutateWebhook(ctx, id, func(*webhook.Webhook) (*webhook.Webhook, error) {
			return &webhook.Webhook{ID: id, URL: "https://example.com/" + id}, nil
		})
		require.NoError(t, err)
	}
	tests := []struct {
		name     string
		before   string
		limit    int
		want     []string
		wantMore bool
	}{
		{"all", "", 100, []string{"wh_06", "wh_05", "wh_04", "wh_03", "wh_02", "wh_01", "wh_00"}, false},
		{"first page", "", 3, []string{"wh_06", "wh_05", "wh_04"}, true},
		{"exact fit", "", 7, []string{"wh_06", "wh_05", "wh_04", "wh_03", "wh_02", "wh_01", "wh_00"}, false},
		{"next page", "wh_04", 3, []string{"wh_03", "wh_02", "wh_01"}, true},
		{"last page", "wh_01", 3, []string{"wh_00"}, false},
		{"before the first", "wh_00", 3, nil, false},
		{"before an id that does not exist", "wh_035", 2, []string{"wh_03", "wh_02"}, true},
		{"limit below 1 means 1", "", 0, []string{"wh_06"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws, more, err := s.Webhooks(ctx, tc.before, tc.limit)
			require.NoError(t, err)
			require.Equal(t, tc.wantMore, more)
			require.Equal(t, len(tc.want), len(ws))
			for i, id := range tc.want {
				require.Equal(t, id, ws[i].ID)
				require.Equal(t, "https://example.com/"+id, ws[i].URL)
			}
		})
	}

	t.Run("paging visits every webhook once", func(t *testing.T) {
		var got []string
		before := ""
		for {
			ws, more, err := s.Webhooks(ctx, before, 2)
			require.NoError(t, err)
			for _, w := range ws {
				got = append(got, w.ID)
			}
			if !more {
				break
			}
			before = ws[len(ws)-1].ID
		}
		require.Equal(t, len(ids), len(got))
		for i, id := range got {
			require.Equal(t, ids[len(ids)-1-i], id)
		}
	})
}
