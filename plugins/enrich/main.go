// Command enrich is a transform plugin that adds fields to the event's data:
// constants from its config, and computed values (the time the gateway
// received the event, the event type's first segment, a stable hash of a
// field). See README.md for the config keys.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Transform(transform)
}

// transform reads the config on every call (a config_get is a cheap host
// call), so native tests can change it between runs.
func transform(e *sdk.Event) ([]byte, error) {
	r, err := loadRules(sdk.Config)
	if err != nil {
		return nil, err
	}
	out, changed, err := r.apply(e)
	if err != nil || !changed {
		return nil, err
	}
	sdk.MetricAdd("enriched", 1)
	return out, nil
}
