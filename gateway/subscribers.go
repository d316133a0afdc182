package gateway

import (
	"context"

	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/plugins"
)

// subscriptions is the one table of subscriber kinds the gateway runs:
//
//	kind       name                 durable  patterns              where
//	webhook    "webhooks"           yes      ">" (matched per hook)  internal/delivery
//	observer   "plugin:<name>"      no       the plugin's          internal/plugins
//
// Filters and transforms are not subscribers: they run inside webhook
// fan-out (internal/pipeline), before deliveries are created.
//
// Programs that embed the gateway add their own with WithSubscriber.
func subscriptions(deliverer *delivery.Engine, set *plugins.Set, ctx context.Context) []bus.Subscription {
	return append([]bus.Subscription{deliverer.Subscription()}, set.Observers(ctx)...)
}
