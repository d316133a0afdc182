// Command logger is an observer plugin that writes one structured (JSON)
// log line per event: its id, type, source and time, plus configurable data
// fields by dotted path, with a sampling rate and a redaction list. See
// README.md for the config keys.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Observe(observe)
}

// observe reads the config on every call (a config_get is a cheap host
// call), so native tests can change it between runs.
func observe(e *sdk.Event) error {
	c, err := loadConfig(sdk.Config)
	if err != nil {
		return err
	}
	if !c.sampled(e.ID()) {
		sdk.MetricAdd("sampled_out", 1)
		return nil
	}
	sdk.Log(c.level, c.line(e))
	sdk.MetricAdd("logged", 1)
	return nil
}
