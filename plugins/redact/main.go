// Command redact is a transform plugin that drops, renames, masks or hashes
// fields of the event's data by dotted path, for a webhook whose receiver
// must not see personal data. See README.md for the config keys.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Transform(transform)
}

// transform reads the config on every call (a config_get is a cheap host
// call), so native tests can change it between runs.
func transform(e *sdk.Event) ([]byte, error) {
	ops, err := loadOps(sdk.Config)
	if err != nil {
		return nil, err
	}
	out, changed, err := ops.apply(e.Data())
	if err != nil || !changed {
		return nil, err
	}
	sdk.MetricAdd("redacted", 1)
	return out, nil
}
