package gateway

import (
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/plugins"
)

// subscriptions is the one table of subscriber kinds the gateway runs:
//
//	kind       name                 durable  patterns                  where
//	webhook    "webhooks"           yes      ">" (matched per hook)    internal/delivery
//	observers  "plugins:observers"  no       ">" (matched per plugin)  internal/plugins
//
// The observers subscription fans out to the observer plugins loaded now,
// each from its own bounded queue, so plugins uploaded or deleted through
// the API need no new subscription. Filters and transforms are not
// subscribers: they run inside webhook fan-out (internal/pipeline), before
// deliveries are created.
//
// Programs that embed the gateway add their own with WithSubscriber.
func subscriptions(deliverer *delivery.Engine, pm *plugins.Manager) []bus.Subscription {
	return []bus.Subscription{deliverer.Subscription(), pm.Subscription()}
}
