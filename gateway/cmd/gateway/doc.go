// Command gateway runs the event gateway and its tooling:
//
//	gateway serve    [--config gateway.yaml] [--addr host:port] [--data DIR] [--log-level LEVEL]
//	gateway validate [--config gateway.yaml]
//	gateway version
//	gateway plugin new   NAME [--lang go] [--kind filter|transform|observer] [--dir .] [--module PATH] [--replace CHECKOUT]
//	gateway plugin build DIR [-o out.wasm]
//	gateway plugin run   FILE.wasm --event event.json|- [--config k=v ...] [--kind KIND] [--webhook-id ID]
//
// Configuration precedence is defaults < YAML file < GATEWAY_* environment
// variables < flags (see package config).
//
// serve stops cleanly on SIGINT or SIGTERM. SIGHUP, which process managers
// send to mean "reload", only logs a warning: reload is not supported yet.
//
// The plugin commands are for plugin authors. new writes a Go project (the
// handler, a native sdktest test that passes at once, a README and a
// go.mod; none inside the gateway's own module, whose go.mod it shares).
// build runs GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, the
// build the gateway does for a source: plugin. run loads a module under
// the server's host (package wasmhost) with the server's default limits
// and a KV store in memory, calls it once and prints what it did.
package main
