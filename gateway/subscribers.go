package gateway

import (
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/delivery"
)

// subscriptions is the one table of subscriber kinds the gateway runs:
//
//	kind       name                 durable  patterns              where
//	webhook    "webhooks"           yes      ">" (matched per hook)  internal/delivery
//	plugin     "plugin:<name>"      per kind the plugin's          wasm plugins (later)
//
// Programs that embed the gateway add their own with WithSubscriber.
func subscriptions(deliverer *delivery.Engine) []bus.Subscription {
	return []bus.Subscription{deliverer.Subscription()}
}
