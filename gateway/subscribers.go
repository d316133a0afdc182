package gateway

import (
	"log/slog"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// subscriptions is the one table of subscriber kinds the gateway runs. Each
// kind turns its part of the config into bus subscriptions:
//
//	kind       name                 durable  patterns              issue
//	webhook    "webhooks"           yes      every webhook's       delivery (next)
//	plugin     "plugin:<name>"      per kind the plugin's          wasm plugins
//
// Programs that embed the gateway add their own with WithSubscriber.
// Until delivery lands the table is empty, and events wait, durably, in the
// log for the first durable subscriber.
func subscriptions(cfg *config.Config, st *store.Store, logger *slog.Logger) []bus.Subscription {
	_, _, _ = cfg, st, logger
	return nil
}
