// Package plugins turns the plugins of the config and of the API into
// running WebAssembly plugins: it resolves each module (a .wasm file, or a
// Go source directory built with the local toolchain and cached by content
// hash, or the bytes uploaded with PUT /v1/plugins/{name} and kept in the
// store), loads it into the wasm host, and builds the pipeline stages,
// per-webhook transforms and observers from them.
//
// A Set is immutable: the plugins of one moment. The Manager holds the
// current Set behind an atomic pointer; the delivery engine (per batch and
// attempt), the ingest handler (per request) and the observer dispatcher
// (per bus batch) read it through the Manager, so a swap takes effect on
// their next call. A hot reload (Manager.Put) loads the new version
// completely (compile, validate, pre-warm one instance) before it swaps a
// new Set in, and then retires the old version, which closes once its calls
// in flight return. A call that still reaches a closed old version is
// retried on the version loaded now, so no event sees a plugin error
// because of a swap.
//
// Source builds are cached in a directory only the gateway's user can read
// (0700): <data dir>/plugin-builds, or the user's cache directory when the
// store is in memory, never the shared temp directory (buildCacheDir).
//
// Config plugins load first, in config order, then API plugins in name
// order. The API can neither replace nor delete a config plugin
// (ErrManagedByConfig).
//
// Observers share one bus subscription (Manager.Subscription); each
// observer name has its own bounded queue and goroutine, created and
// stopped as observers come and go.
//
// Manager and Set are safe for concurrent use.
package plugins
