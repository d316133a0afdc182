// Package abi is the gw_v1 contract between the gateway (the host) and a
// WebAssembly plugin (the guest). It holds names, codes and limits only, and
// depends on nothing but the standard library, so the Go SDK, the host and
// authors of C, AssemblyScript or WAT plugins all read the same definitions.
//
// # Versioning
//
// The version lives in the import module name, "gw_v1", and in the marker
// export "gw_abi_v1". A future gw_v2 is a new module name served beside
// gw_v1; a guest built for gw_v1 keeps working unchanged.
//
// # What the guest exports
//
//	memory                          its linear memory (required)
//	_initialize()                   reactor start-up (optional; Go and C
//	                                reactors have it)
//	gw_abi_v1()                     marker, never called (required)
//	gw_alloc(size i32) -> i32       returns a pointer to size bytes the host
//	                                may write (required)
//	gw_observe(meta_ptr, meta_len, data_ptr, data_len i32) -> i32
//	gw_filter(meta_ptr, meta_len, data_ptr, data_len i32) -> i32
//	gw_transform(meta_ptr, meta_len, data_ptr, data_len i32) -> i32
//
// For each call the host asks gw_alloc for one buffer of meta_len+data_len
// bytes, writes the meta document and then the event data into it, and calls
// the handler with meta_ptr at the start of the buffer and data_ptr right
// after the meta. The buffer belongs to the guest from then on (a Go guest
// lets its garbage collector reclaim it). gw_alloc returns 0 (or traps)
// when it cannot serve the request; the host then writes nothing and treats
// the call as a crash, as it does a buffer outside memory. The host never
// asks for a negative size.
//
// # The plugin's kind: gw_kind
//
// A module that exports exactly one handler and no gw_kind has the kind that
// handler names (the natural shape for C, AssemblyScript and WAT). A module
// may instead export gw_kind() -> i32, which returns KindCodeObserver,
// KindCodeFilter or KindCodeTransform; it may then export more than one
// handler. The Go SDK does this: //go:wasmexport is static and the SDK, not
// the plugin's package main, owns the exports, so every Go plugin exports
// all three handlers, and gw_kind reports the one its init registered
// (KindCodeNone when it registered none).
//
// The host validates the handler exports and their signatures when it
// compiles the module, and, when gw_kind is exported, calls it once on the
// first instance, right after _initialize (the kind cannot be known earlier:
// the plugin's init sets it). The result must name a handler the module
// exports and match the kind the configuration declares, if it declares
// one; anything else (KindCodeNone or an unknown code included) refuses the
// plugin. From then on the host calls only that handler. A Go SDK handler
// of another kind returns ResultWrongKind if called. Exporting several
// handlers without gw_kind is an error.
//
// Why gw_kind rather than one sub-package per kind whose blank import adds
// the one export: the SDK's API is sdk.Filter, sdk.Transform and
// sdk.Observe in one package, and a kind chosen by an import would be a
// second declaration the compiler cannot check against the registration. A
// kind taken from the configuration alone would leave the host unable to
// check, at load, that the module is what the configuration says.
//
// # Handler results
//
// gw_observe returns ObserveOK; gw_filter returns Allow, Flag or Deny (with
// reason_set for the reason); gw_transform returns Unchanged, Replaced
// (after output_set) or Drop. A negative result is a plugin error, handled by
// the plugin's on_error policy; the Go SDK returns ResultFailed,
// ResultWrongKind or ResultBadInput and logs the cause first. A trap (a Go
// panic ends the instance with exit code 2) is a crash: the host discards
// the instance.
//
// The meta document is a small JSON object (see Meta): the event's id, type,
// source and time, and webhook_id when a transform runs for one webhook.
// Guests ignore members they do not know, so gw_v1 hosts may add members.
// The data is the event's data exactly as the producer sent it.
//
// # What the host provides (import module "gw_v1")
//
// All pointers are offsets into the guest's memory; lengths are bytes.
// Strings are UTF-8 without a terminator. Expected conditions come back as
// negative Status codes; a pointer or length outside memory traps the call.
//
//	log(level, msg_ptr, msg_len i32)
//	config_get(key_ptr, key_len, buf_ptr, buf_cap i32) -> i32
//	kv_get(key_ptr, key_len, buf_ptr, buf_cap i32) -> i32
//	kv_set(key_ptr, key_len, val_ptr, val_len i32, ttl_ms i64) -> i32
//	kv_delete(key_ptr, key_len i32) -> i32
//	kv_incr(key_ptr, key_len i32, delta, ttl_ms i64, out_ptr i32) -> i32
//	metric_add(name_ptr, name_len i32, delta i64) -> i32
//	output_set(ptr, len i32) -> i32
//	reason_set(ptr, len i32) -> i32
//
// config_get and kv_get return the value's real length, or StatusNotFound.
// They write the value only when it fits in buf_cap; when the returned
// length is larger than buf_cap the guest calls again with a bigger buffer.
// kv_incr adds delta to a little-endian int64 counter (missing counts as 0),
// writes the new value as 8 little-endian bytes at out_ptr and returns
// StatusOK. ttl_ms of 0 means no expiry; kv_incr with a TTL keeps the TTL
// the counter got when it was created, so a window of "N per minute" is one
// kv_incr call. Other functions return StatusOK or a negative Status.
//
// A Go plugin's init functions run inside _initialize, so the host serves
// log, config_get, kv_* and metric_add during _initialize too; there is no
// event then, and output_set and reason_set return StatusWrongKind.
//
// The KV store is namespaced per plugin and shared by all instances of that
// plugin; it has quotas (MaxKVKeyBytes, MaxKVValueBytes and a per-plugin
// total set by the host).
//
// WASI (wasi_snapshot_preview1) is also available, sandboxed: no files, no
// network, no arguments, no environment but GOGC; stdout and stderr go to the
// plugin's log; real clocks and random numbers; sleeps are capped.
package abi
