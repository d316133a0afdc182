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
// The handler a plugin exports names its kind. A plugin that exports more
// than one handler (the Go SDK exports all three, since //go:wasmexport is
// static) must also export gw_kind() -> i32, returning KindCodeObserver,
// KindCodeFilter or KindCodeTransform; the host calls it once after
// _initialize and uses only that handler. For each call
// the host asks gw_alloc for one buffer of meta_len+data_len bytes, writes
// the meta document and then the event data into it, and calls the handler.
// The buffer belongs to the guest from then on (a Go guest lets its garbage
// collector reclaim it).
//
// Handler results: gw_observe returns ObserveOK; gw_filter returns Allow,
// Flag or Deny (with reason_set for the reason); gw_transform returns
// Unchanged, Replaced (after output_set) or Drop. A negative result is a
// plugin error, handled by the plugin's on_error policy.
//
// The meta document is a small JSON object (see Meta): the event's id, type,
// source and time, and webhook_id when a transform runs for one webhook.
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
// The KV store is namespaced per plugin and shared by all instances of that
// plugin; it has quotas (MaxKVKeyBytes, MaxKVValueBytes and a per-plugin
// total set by the host).
//
// WASI (wasi_snapshot_preview1) is also available, sandboxed: no files, no
// network, no arguments, no environment but GOGC; stdout and stderr go to the
// plugin's log; real clocks and random numbers; sleeps are capped.
package abi
