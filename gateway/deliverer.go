package gateway

import (
	"fmt"
	"log/slog"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/plugins"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// newDeliverer builds the webhook delivery engine and its egress guard from
// the config.
func newDeliverer(cfg *config.Config, st *store.Store, pm *plugins.Manager, al *audit.Log, logger *slog.Logger) (*delivery.Engine, *egress.Policy, error) {
	d := cfg.Delivery
	policy, err := egress.NewPolicy(d.AllowPrivate, d.AllowedCIDRs)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: %w", err)
	}
	e := delivery.New(delivery.Options{
		Deliveries:       st,
		Events:           st,
		Webhooks:         st,
		Dial:             policy.NewDialer(d.Timeout).DialContext,
		Workers:          d.Workers,
		Timeout:          d.Timeout,
		RetrySchedule:    d.RetrySchedule,
		MaxResponseBytes: d.MaxResponseBytes,
		MaxInFlight:      d.MaxInFlight,
		BreakerFailures:  d.BreakerFailures,
		DisableAfter:     d.DisableAfter,
		ShutdownGrace:    d.ShutdownGrace,
		Version:          Version(),
		Logger:           logger,
		Pipeline:         pm.Pipeline,
		Transform:        pm.Transform,
		Observer:         pm,
		Audit:            al,
	})
	return e, policy, nil
}
