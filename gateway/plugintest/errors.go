package plugintest

import "github.com/eventgw/gateway/gateway/internal/wasmhost"

// The host's call errors, re-exported so a test outside the gateway can
// check Result.Err with errors.Is.
var (
	// ErrPluginError: the plugin returned an error (a negative result) or
	// bad output, such as a transform's invalid JSON.
	ErrPluginError = wasmhost.ErrPluginError
	// ErrTimeout: the call ran past its deadline (Options.CallTimeout).
	ErrTimeout = wasmhost.ErrTimeout
	// ErrCrashed: the instance trapped, panicked or exited.
	ErrCrashed = wasmhost.ErrCrashed
	// ErrPluginBroken: too many crashes opened the plugin's breaker.
	ErrPluginBroken = wasmhost.ErrPluginBroken
	// ErrBusy: no instance was free in time.
	ErrBusy = wasmhost.ErrBusy
)
