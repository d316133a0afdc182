// Package fakehost is the in-memory gw_v1 host behind the Go SDK's native
// build (GOOS other than wasip1), so a plugin's logic runs under plain
// go test. It keeps the real host's limits and status codes: a config map,
// a KV store with TTLs and a quota, captured logs and metrics, and the
// output and reason of the current call.
//
// Package sdk binds its registered handler with SetGuest at init, and
// sdk/sdktest drives Default. A Host is safe for concurrent use; Call runs
// one handler call at a time, as a Wasm instance does.
package fakehost
