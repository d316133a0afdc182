// Command gateway runs the event gateway and its tooling:
//
//	gateway serve    [--config gateway.yaml] [--addr host:port] [--data DIR] [--log-level LEVEL] [--accept-data-loss] [--cpuprofile FILE]
//	gateway validate [--config gateway.yaml]
//	gateway version
//	gateway store check   [--data DIR]
//	gateway store backup  [--data DIR] --out FILE
//	gateway store restore [--data DIR] --in FILE
//	gateway plugin new   NAME [--lang go|c|assemblyscript] [--kind filter|transform|observer] [--dir .] [--module PATH] [--replace CHECKOUT]
//	gateway plugin build DIR [-o out.wasm]
//	gateway plugin run   FILE.wasm --event event.json|- [--config k=v ...] [--kind KIND] [--webhook-id ID] [--json]
//
// Configuration precedence is defaults < YAML file < GATEWAY_* environment
// variables < flags (see package config).
//
// validate also reads every plugin path, checks its sha256 pin and compiles
// it against gw_v1 (wasmhost.Runtime.Check), running no guest code.
//
// serve stops cleanly on SIGINT or SIGTERM. SIGHUP, which process managers
// send to mean "reload", only logs a warning: reload is not supported yet.
// --cpuprofile FILE writes a CPU profile of the whole run (runtime/pprof)
// when serve stops, for measuring; BENCHMARKS.md shows how it is read.
//
// The store commands work on a data directory offline (--data, or
// storage.path from --config): check verifies it (exit 1 on damage or on
// acknowledged events missing), backup writes a backup of a stopped
// gateway's directory (a running one is backed up with POST
// /v1/admin/backup; backup refuses its locked directory and says so), and
// restore loads a backup into an empty directory. serve
// --accept-data-loss starts a store that lost acknowledged events, logging
// the gap as an ERROR.
//
// The plugin commands are for plugin authors. new writes a project (the
// handler, a test that passes at once, a README and a go.mod; none inside
// the gateway's own module, whose go.mod it shares). A Go project's go.mod
// requires only the SDK module: at the SDK version this binary was built
// with when that is a release, else through a replace to a copy of the SDK
// it embeds (sdk.ModuleFiles), written into the project, so it builds
// offline without a checkout. A C or AssemblyScript project's tests run
// this binary, and its go.mod requires nothing. build compiles a plugin
// directory with its language's toolchain (package toolchain), the build
// the gateway does for a source: plugin. run loads a module under the
// server's host (package wasmhost) with the server's default limits and a
// KV store in memory, calls it once and prints what it did, as text or
// JSON.
package main
