// Package wasmhost runs user WebAssembly plugins that speak the gw_v1 ABI
// (package sdk/abi) on wazero: it compiles and validates modules, keeps a
// bounded pool of instances per plugin, serves the gw_v1 host functions and
// a sandboxed WASI, and enforces per-plugin limits.
//
// # Use
//
//	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{StorageDir: dir})
//	p, err := rt.Load(ctx, wasmhost.Spec{Name: "fraud", Wasm: bin, KV: kv})
//	res, err := p.Filter(ctx, meta, data)
//	...
//	p.Retire() // after swapping in a new version; closes when idle
//	rt.Close(ctx)
//
// Runtime, Plugin and their methods are safe for concurrent use. A Plugin
// serves one call per instance at a time and at most Limits.PoolSize calls
// at once; further callers wait up to Limits.AcquireTimeout and then get
// ErrBusy.
//
// # Errors
//
// Load reports every validation problem in one error that names the plugin,
// e.g. `plugin "fraud": missing export "gw_alloc"`. Calls return sentinels
// the pipeline acts on (its on_error policy): ErrBusy, ErrPluginBroken,
// ErrTimeout, ErrCrashed, ErrPluginError, ErrClosed and ErrWrongKind,
// wrapped with the
// plugin name and detail. ErrTimeout and ErrCrashed discard the instance
// that failed; ErrPluginError (a negative result, a bad output) does not.
//
// # Why one wazero runtime per limits class, not per plugin or per process?
//
// wazero sets the memory limit (WithMemoryLimitPages) and the deadline guard
// (WithCloseOnContextDone) on the runtime, not on a module, so plugins with
// different limits cannot share one runtime. A runtime per plugin would work
// too, but each one instantiates its own WASI and gw_v1 host modules and its
// compiled modules cannot be shared. So the Runtime keeps one wazero runtime
// per distinct (memory pages, deadline guard) pair, all sharing one
// CompilationCache, and instances never share memory whatever runtime they
// live in. The host functions find their plugin through the per-call state
// in the context, never through a closure or a global, which is what lets
// one runtime serve many plugins.
//
// # Why compile once per content hash?
//
// A Go guest takes about a second to compile. The Runtime keeps a map from
// (sha256 of the bytes, limits class) to the CompiledModule, counted by
// reference, so loading the same bytes again (a hot reload that changes only
// config) costs no compilation, and the on-disk compilation cache
// (<Options.StorageDir>/wasm-cache) makes a restart cost a cache read
// instead of a compile.
//
// # Why a channel-and-stack pool rather than sync.Pool?
//
// sync.Pool may drop instances at any GC and has no bound, and an instance
// holds up to Limits.MemoryPages of memory. The pool is a semaphore (a
// buffered channel of PoolSize tokens) plus a stack of idle instances: a
// caller takes a token (waiting at most AcquireTimeout), then pops an idle
// instance or creates one. Instances are created lazily up to the bound, one
// eagerly at load. An instance whose call failed in any way other than a
// negative result is closed, never returned.
//
// # Deadline guard
//
// wazero checks a call's deadline (WithCloseOnContextDone) only at loop
// headers, so Load rewrites each module before compiling it: a call
// counter global, and at every function entry an empty loop entered once
// in 1024 calls (interrupt.go explains why and what it costs). A guest that
// recurses without looping ends at its deadline too; recursion without end
// traps on wazero's stack ceiling (about 50 MB in wazero 1.12), a crash.
//
// # Memory budget
//
// Options.MaxMemoryBytes bounds every instance of every plugin of a Runtime
// together: an instance reserves its Limits.MemoryPages (or its module's
// smaller maximum) before it is created, with a lock-free counter, and
// returns them when it closes. One that does not fit is not created:
// ErrMemoryBudget, counted as busy, never as a crash.
//
// # Crash breaker
//
// After Limits.CrashLimit crashes (traps, timeouts, exits) within a minute
// the plugin's breaker opens for Limits.CrashCooldown, and calls fail at once
// with ErrPluginBroken, so a plugin that crashes on every event does not pay
// an instance creation per event.
//
// # Hot reload
//
// The caller swaps an atomic pointer to the new *Plugin and calls Retire on
// the old one. Calls that already started on the old plugin finish on it; it
// closes when the last of them returns. A call that loaded the old pointer
// but starts after the close gets ErrClosed and should reload the pointer
// and retry.
//
// # Sandbox
//
// WASI gives no filesystem, no arguments and no environment but GOGC
// (Limits.GOGC, default 50); stdout and stderr are split into lines and
// logged to the plugin's logger, sharing the log rate limit with gw_v1 log;
// clocks and random numbers are real; each sleep is capped at 10 ms, and the
// call deadline bounds the total.
package wasmhost
