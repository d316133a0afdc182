package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// webhookStore is what applying config webhooks needs from the store.
type webhookStore interface {
	Webhooks(ctx context.Context, before string, limit int) ([]webhook.Webhook, bool, error)
	MutateWebhook(ctx context.Context, id string, fn func(cur *webhook.Webhook) (*webhook.Webhook, error)) (*webhook.Webhook, error)
}

// applyConfigWebhooks upserts the webhooks declared in the config and marks
// them as managed by it.
//
// The config file wins for every field but "enabled". For "enabled" it is a
// three-way merge: the config value applies when the webhook is created and
// whenever the file's value changes; otherwise the API's choice (say, a
// webhook disabled during an incident) survives a restart.
//
// A webhook that was managed by the config and is no longer declared is not
// deleted (its pending work would go with it): it becomes an ordinary API
// webhook, and a warning says so.
func applyConfigWebhooks(ctx context.Context, st webhookStore, declared []config.Webhook, overlap time.Duration, logger *slog.Logger, now func() time.Time) error {
	inConfig := make(map[string]bool, len(declared))
	for _, cw := range declared {
		inConfig[cw.ID] = true
		_, err := st.MutateWebhook(ctx, cw.ID, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
			return mergeConfigWebhook(cur, cw, overlap, logger, now().UTC()), nil
		})
		if err != nil {
			return fmt.Errorf("gateway: apply webhooks[%s] from config: %w", cw.ID, err)
		}
	}
	before := ""
	for {
		page, more, err := st.Webhooks(ctx, before, 500)
		if err != nil {
			return fmt.Errorf("gateway: list webhooks: %w", err)
		}
		for _, w := range page {
			if w.Managed != webhook.ManagedByConfig || inConfig[w.ID] {
				continue
			}
			_, err := st.MutateWebhook(ctx, w.ID, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
				if cur == nil {
					return nil, nil
				}
				next := *cur
				next.Managed, next.ConfigEnabled, next.UpdatedAt = "", nil, now().UTC()
				return &next, nil
			})
			if err != nil {
				return fmt.Errorf("gateway: release webhook %s: %w", w.ID, err)
			}
			logger.Warn("webhook is no longer in the config; it was kept and is now managed through the API", "webhook", w.ID, "url", w.URL)
		}
		if !more {
			return nil
		}
		before = page[len(page)-1].ID
	}
}

func mergeConfigWebhook(cur *webhook.Webhook, cw config.Webhook, overlap time.Duration, logger *slog.Logger, now time.Time) *webhook.Webhook {
	var next webhook.Webhook
	if cur != nil {
		next = *cur
	} else {
		next = webhook.Webhook{ID: cw.ID, CreatedAt: now}
	}
	// The file owns these fields: what it leaves out is reset, not kept.
	next.Description, next.Headers, next.Delivery = "", nil, webhook.Delivery{}
	spec := cw.Spec()
	spec.Secret, spec.Enabled = nil, nil // merged below
	spec.Apply(&next)
	next.ConfigSecret = cw.Secret != ""
	switch {
	case cw.Secret != "":
		// A changed secret in the file is a rotation: the old one keeps
		// signing for delivery.secret_overlap.
		next.Rotate(cw.Secret, now, overlap)
	case next.Secret == "":
		next.Secret = webhook.NewSecret()
		logger.Warn("webhook has no secret in the config; generated one. Read it with GET /v1/webhooks/{id}/secret, or set secret_env to choose it", "webhook", cw.ID)
	}
	want := cw.IsEnabled()
	if cur == nil || cur.ConfigEnabled == nil || *cur.ConfigEnabled != want {
		next.Enabled = want
	}
	next.ConfigEnabled = &want
	next.Managed = webhook.ManagedByConfig
	next.UpdatedAt = now
	return &next
}
