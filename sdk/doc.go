// Package sdk is the Go SDK for the gateway's WebAssembly plugins. It owns
// every export and import of the gw_v1 ABI (package abi), so a plugin is
// ordinary Go: package main, an empty main, and an init that registers one
// handler.
//
//	package main
//
//	import (
//		"strings"
//
//		"github.com/eventgw/gateway/sdk"
//	)
//
//	func main() {}
//
//	func init() {
//		sdk.Filter(func(e *sdk.Event) sdk.Verdict {
//			if email, _ := e.Get("customer.email"); strings.HasSuffix(email, "@example.test") {
//				return sdk.Deny("test customer")
//			}
//			return sdk.Allow()
//		})
//	}
//
// Build it with the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// # Kinds
//
// A plugin registers exactly one of Filter (allow, flag or deny an event),
// Transform (replace, keep or drop an event's data) or Observe (see events,
// asynchronously, and change nothing). Registering a second handler panics,
// which fails the plugin at load. The Wasm module exports all three handler
// functions and gw_kind, which tells the gateway which one was registered.
//
// # Services
//
// Config reads the plugin's configuration; Log (and Debug, Info, Warn,
// Error) writes to its log; KVGet, KVSet, KVIncr and KVDelete use a key-value
// store shared by all instances of the plugin; MetricAdd counts. Failures
// come back as the sentinel errors ErrNotFound, ErrTooLarge, ErrQuota,
// ErrInvalid, ErrUnavailable and ErrWrongKind.
//
// # Calls and goroutines
//
// An instance serves one call at a time, and the gateway runs several
// instances of a plugin, each with its own memory: package variables are per
// instance, and the KV store is the only state instances share. Goroutines
// run only while a handler runs; one started by a handler and not finished
// when it returns is frozen until the next call. A panic is not recovered:
// it ends the instance, which the gateway discards, and counts as a crash.
//
// # Testing
//
// Outside GOOS=wasip1 the package compiles against an in-memory fake host,
// so a plugin's logic runs under plain go test; package sdk/sdktest sets up
// config and KV, runs the registered handler with an event and returns its
// verdict, output and logs.
//
// # Module
//
// The SDK is its own module, github.com/eventgw/gateway/sdk, with no
// requirements: a plugin gets nothing but the standard library. Outside
// GOOS=wasip1, ModuleFiles returns the module's files, which a development
// build of the gateway copies into the Go projects `gateway plugin new`
// writes.
package sdk
