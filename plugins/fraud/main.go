// Command fraud is a filter plugin that checks events against rules from
// its config: an allowlist that bypasses every check, blocklists of values,
// an amount threshold (flag above X, deny above Y) and a velocity limit per
// key (at most N events per window, counted with sdk.KVIncr). Every deny or
// flag carries a readable reason. See README.md for the config keys.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Filter(check)
}

// check is the filter. The config is read on every call (a config_get is a
// cheap host call), so native tests can change it between runs.
func check(e *sdk.Event) sdk.Verdict {
	r, err := loadRules(sdk.Config)
	if err != nil {
		sdk.Error("fraud: " + err.Error())
		sdk.MetricAdd("config_errors", 1)
		return sdk.Flag("fraud: bad config: " + err.Error())
	}
	v := r.check(e)
	switch {
	case v.deny:
		sdk.MetricAdd("denied", 1)
		return sdk.Deny(v.reason)
	case v.flag:
		sdk.MetricAdd("flagged", 1)
		return sdk.Flag(v.reason)
	}
	return sdk.Allow()
}
