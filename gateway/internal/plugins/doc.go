// Package plugins turns the plugins of the config (and of the API) into
// running WebAssembly plugins: it resolves each module (a .wasm file, or a
// Go source directory built with the local toolchain and cached by content
// hash), loads it into the wasm host, and builds the pipeline stages,
// per-webhook transforms and observers from them.
//
// A Set is immutable; hot reload builds a new Set and swaps it atomically.
package plugins
