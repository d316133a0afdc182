// eventgw-sdk: the AssemblyScript SDK for gateway plugins (the gw_v1 ABI,
// documented in sdk/abi). One file, no dependencies but the compiler.
//
// A plugin exports gw_abi_v1 and gw_alloc from here and defines exactly one
// handler export, gw_filter, gw_transform or gw_observe, that hands its four
// arguments and a function to filter, transform or observe:
//
//   import { Event, Result, filter, allow, deny, config } from "eventgw-sdk";
//   export { gw_abi_v1, gw_alloc } from "eventgw-sdk";
//
//   export function gw_filter(m: usize, ml: usize, d: usize, dl: usize): i32 {
//     return filter(m, ml, d, dl, check);
//   }
//
//   function check(e: Event): Result {
//     const country = e.get("country");
//     if (country != null && country == config("blocked")) return deny("blocked");
//     return allow();
//   }
//
// Compile with the flags in README.md (asconfig.json holds them): the
// incremental runtime, --exportStart _initialize, and --use aliases that send
// abort, trace and seed here, since the host serves gw_v1 and WASI only.

// ---- gw_v1 host functions -------------------------------------------------

@external("gw_v1", "log")
declare function gw_log(level: i32, msg: usize, msgLen: usize): void;
@external("gw_v1", "config_get")
declare function gw_config_get(key: usize, keyLen: usize, buf: usize, cap: usize): i32;
@external("gw_v1", "kv_get")
declare function gw_kv_get(key: usize, keyLen: usize, buf: usize, cap: usize): i32;
@external("gw_v1", "kv_set")
declare function gw_kv_set(key: usize, keyLen: usize, val: usize, valLen: usize, ttlMs: i64): i32;
@external("gw_v1", "kv_delete")
declare function gw_kv_delete(key: usize, keyLen: usize): i32;
@external("gw_v1", "kv_incr")
declare function gw_kv_incr(key: usize, keyLen: usize, delta: i64, ttlMs: i64, out: usize): i32;
@external("gw_v1", "metric_add")
declare function gw_metric_add(name: usize, nameLen: usize, delta: i64): i32;
@external("gw_v1", "output_set")
declare function gw_output_set(p: usize, len: usize): i32;
@external("gw_v1", "reason_set")
declare function gw_reason_set(p: usize, len: usize): i32;
@external("wasi_snapshot_preview1", "random_get")
declare function wasi_random_get(buf: usize, len: usize): i32;

// ---- codes ----------------------------------------------------------------

/** Host function statuses (negative: an expected failure). */
export const OK: i32 = 0;
export const NOT_FOUND: i32 = -1;
export const TOO_LARGE: i32 = -2;
export const QUOTA: i32 = -3;
export const INVALID: i32 = -4;
export const UNAVAILABLE: i32 = -5;
export const WRONG_KIND: i32 = -6;

/** Handler results, as the host reads them. */
export const ALLOW: i32 = 0;
export const FLAG: i32 = 1;
export const DENY: i32 = 2;
export const UNCHANGED: i32 = 0;
export const REPLACED: i32 = 1;
export const DROP: i32 = 2;
export const OBSERVE_OK: i32 = 0;
export const RESULT_FAILED: i32 = -1;
export const RESULT_WRONG_KIND: i32 = -2;
export const RESULT_BAD_INPUT: i32 = -3;

/** Log levels. */
export const DEBUG: i32 = 0;
export const INFO: i32 = 1;
export const WARN: i32 = 2;
export const ERROR: i32 = 3;

// ---- exports every plugin re-exports ---------------------------------------

/** gw_abi_v1 marks the module as built for gw_v1; the host never calls it. */
export function gw_abi_v1(): void {}

/**
 * gw_alloc returns size bytes the host writes one call's meta and data into.
 * The handler helpers read the event in place and free the block when the
 * handler returns.
 */
export function gw_alloc(size: i32): usize {
  if (size < 0) return 0;
  return heap.alloc(size > 0 ? <usize>size : 1);
}

// ---- the event --------------------------------------------------------------

/**
 * Event is one event as a handler sees it. It reads the host's buffer in
 * place, so it is valid only during the handler call: copy what you keep
 * (e.data returns a copy).
 */
export class Event {
  constructor(
    private metaPtr: usize,
    private metaLen: i32,
    private dataPtr: usize,
    private dataLen: i32,
  ) {}

  /** The event's id (evt_...). */
  get id(): string { return metaString(this.metaPtr, this.metaLen, "id"); }
  /** The event's type, such as "payment.created". */
  get type(): string { return metaString(this.metaPtr, this.metaLen, "type"); }
  /** The producer's source, or "". */
  get source(): string { return metaString(this.metaPtr, this.metaLen, "source"); }
  /** When the gateway accepted the event, RFC 3339. */
  get time(): string { return metaString(this.metaPtr, this.metaLen, "time"); }
  /** The webhook a per-webhook transform runs for, or "". */
  get webhookId(): string { return metaString(this.metaPtr, this.metaLen, "webhook_id"); }

  /** A copy of the event's data exactly as the producer sent it (JSON). */
  get data(): Uint8Array {
    const b = new Uint8Array(this.dataLen);
    memory.copy(b.dataStart, this.dataPtr, <usize>this.dataLen);
    return b;
  }

  /** The data's length in bytes. */
  get dataLength(): i32 { return this.dataLen; }

  /** The data as a string. */
  dataString(): string {
    return String.UTF8.decodeUnsafe(this.dataPtr, <usize>this.dataLen);
  }

  /**
   * get returns the value at a dotted path of the data ("customer.country",
   * "items.0.sku"): a string unquoted, any other value as its JSON text; null
   * when the path is missing. It scans the data without decoding the rest.
   * The gateway refuses events whose JSON names a key twice in one object
   * (400 duplicate_key, also for keys that differ only in case), so each key
   * appears once and get reads the value the receiver reads.
   */
  get(path: string): string | null {
    return jsonGet(this.dataPtr, this.dataLen, path);
  }
}

function metaString(p: usize, n: i32, key: string): string {
  const v = jsonGet(p, n, key);
  return v == null ? "" : v;
}

// ---- results ----------------------------------------------------------------

const KIND_NONE: i32 = -1;
const KIND_OBSERVER: i32 = 0;
const KIND_FILTER: i32 = 1;
const KIND_TRANSFORM: i32 = 2;

/** Result is what a handler returns: build it with the functions below. */
export class Result {
  constructor(
    public kind: i32,
    public code: i32,
    public text: string | null = null, // a reason, or a failure's message
    public output: Uint8Array | null = null,
  ) {}
}

/** allow lets the event through (filter). */
export function allow(): Result { return new Result(KIND_FILTER, ALLOW); }
/** flag lets the event through and records reason (filter). */
export function flag(reason: string): Result { return new Result(KIND_FILTER, FLAG, reason); }
/** deny stops the event and records reason (filter). */
export function deny(reason: string): Result { return new Result(KIND_FILTER, DENY, reason); }
/** unchanged keeps the data as it was (transform). */
export function unchanged(): Result { return new Result(KIND_TRANSFORM, UNCHANGED); }
/** replace sends json instead of the data (transform). */
export function replace(json: string): Result {
  return new Result(KIND_TRANSFORM, REPLACED, null, Uint8Array.wrap(String.UTF8.encode(json)));
}
/** replaceBytes sends json instead of the data (transform). */
export function replaceBytes(json: Uint8Array): Result {
  return new Result(KIND_TRANSFORM, REPLACED, null, json);
}
/** drop stops the event for this stage (transform). */
export function drop(): Result { return new Result(KIND_TRANSFORM, DROP); }
/** ok is an observer's success. */
export function ok(): Result { return new Result(KIND_OBSERVER, OBSERVE_OK); }
/**
 * fail is a plugin error, from a handler of any kind: message is logged at
 * error level and the plugin's on_error policy applies.
 */
export function fail(message: string): Result { return new Result(KIND_NONE, RESULT_FAILED, message); }

// ---- handlers ---------------------------------------------------------------

/** filter runs fn on the event and returns its verdict to the host. */
export function filter(m: usize, ml: usize, d: usize, dl: usize, fn: (e: Event) => Result): i32 {
  return finish(KIND_FILTER, m, fn(new Event(m, <i32>ml, d, <i32>dl)));
}

/** transform runs fn on the event and returns its result to the host. */
export function transform(m: usize, ml: usize, d: usize, dl: usize, fn: (e: Event) => Result): i32 {
  return finish(KIND_TRANSFORM, m, fn(new Event(m, <i32>ml, d, <i32>dl)));
}

/** observe runs fn on the event. */
export function observe(m: usize, ml: usize, d: usize, dl: usize, fn: (e: Event) => Result): i32 {
  return finish(KIND_OBSERVER, m, fn(new Event(m, <i32>ml, d, <i32>dl)));
}

// finish frees the host's buffer (the meta starts the gw_alloc block and
// the data follows it) and hands r to the host.
function finish(kind: i32, buf: usize, r: Result): i32 {
  heap.free(buf);
  if (r.kind == KIND_NONE) {
    logError(r.text != null ? r.text! : "plugin failed");
    return RESULT_FAILED;
  }
  if (r.kind != kind) {
    logError("handler returned a result of another kind (allow/flag/deny are for filters, unchanged/replace/drop for transforms, ok for observers)");
    return RESULT_WRONG_KIND;
  }
  if (kind == KIND_FILTER && r.code != ALLOW) {
    const st = setString(gw_reason_set, r.text != null ? r.text! : "");
    if (st != OK) {
      logError("reason refused by the host: status " + st.toString());
      return RESULT_FAILED;
    }
  }
  if (kind == KIND_TRANSFORM && r.code == REPLACED) {
    if (r.output == null) {
      logError("replaced without an output");
      return RESULT_FAILED;
    }
    const out = r.output!;
    const st = gw_output_set(out.dataStart, <usize>out.length);
    if (st != OK) {
      logError("output refused by the host: status " + st.toString());
      return RESULT_FAILED;
    }
  }
  return r.code;
}

// ---- services ---------------------------------------------------------------

/** log writes msg to the plugin's log at level (DEBUG, INFO, WARN, ERROR). */
export function log(level: i32, msg: string): void {
  const b = String.UTF8.encode(msg);
  gw_log(level, changetype<usize>(b), <usize>b.byteLength);
}
export function logDebug(msg: string): void { log(DEBUG, msg); }
export function logInfo(msg: string): void { log(INFO, msg); }
export function logWarn(msg: string): void { log(WARN, msg); }
export function logError(msg: string): void { log(ERROR, msg); }

/** config returns the plugin's config value for key, or null. */
export function config(key: string): string | null {
  const b = getBytes(gw_config_get, key);
  return b == null ? null : String.UTF8.decode(b.buffer);
}

/** configInt returns config key as a decimal integer, or def. */
export function configInt(key: string, def: i64): i64 {
  const v = config(key);
  if (v == null) return def;
  const n = parseDecimal(v);
  return n.ok ? n.value : def;
}

/** configFloat returns config key as a number, or def. */
export function configFloat(key: string, def: f64): f64 {
  const v = config(key);
  if (v == null) return def;
  const n = parseNumber(v);
  return isNaN(n) ? def : n;
}

/** kvGet returns the value stored at key, or null (missing, or a host failure). */
export function kvGet(key: string): Uint8Array | null {
  return getBytes(gw_kv_get, key);
}

/** kvGetString returns the value at key as a string, or null. */
export function kvGetString(key: string): string | null {
  const b = kvGet(key);
  return b == null ? null : String.UTF8.decode(b.buffer);
}

/** kvSet stores value at key; ttlMs of 0 keeps it until deleted. Returns a status. */
export function kvSet(key: string, value: Uint8Array, ttlMs: i64 = 0): i32 {
  const k = String.UTF8.encode(key);
  return gw_kv_set(changetype<usize>(k), <usize>k.byteLength, value.dataStart, <usize>value.length, ttlMs);
}

/** kvSetString stores a string value at key. Returns a status. */
export function kvSetString(key: string, value: string, ttlMs: i64 = 0): i32 {
  return kvSet(key, Uint8Array.wrap(String.UTF8.encode(value)), ttlMs);
}

/** kvDelete removes key (a missing key is not an error). Returns a status. */
export function kvDelete(key: string): i32 {
  const k = String.UTF8.encode(key);
  return gw_kv_delete(changetype<usize>(k), <usize>k.byteLength);
}

/** Counter is the result of kvIncr. */
export class Counter {
  constructor(public status: i32, public value: i64) {}
  /** ok reports whether the host counted (status OK). */
  get ok(): bool { return this.status == OK; }
}

/**
 * kvIncr adds delta to the counter at key (missing counts as 0) and returns
 * the new value. A TTL is kept from the counter's creation, so "N per
 * minute" is one call with ttlMs 60000.
 */
export function kvIncr(key: string, delta: i64, ttlMs: i64 = 0): Counter {
  const k = String.UTF8.encode(key);
  const out = new ArrayBuffer(8);
  const st = gw_kv_incr(changetype<usize>(k), <usize>k.byteLength, delta, ttlMs, changetype<usize>(out));
  return new Counter(st, st == OK ? load<i64>(changetype<usize>(out)) : 0);
}

/** metricAdd adds delta to the plugin's counter name. Returns a status. */
export function metricAdd(name: string, delta: i64 = 1): i32 {
  const b = String.UTF8.encode(name);
  return gw_metric_add(changetype<usize>(b), <usize>b.byteLength, delta);
}

// getBytes calls config_get or kv_get, growing the buffer until the value
// fits; null when the key is missing or the host fails.
function getBytes(get: (k: usize, kl: usize, b: usize, c: usize) => i32, key: string): Uint8Array | null {
  const k = String.UTF8.encode(key);
  let buf = new Uint8Array(64);
  for (;;) {
    const n = get(changetype<usize>(k), <usize>k.byteLength, buf.dataStart, <usize>buf.length);
    if (n < 0) return null;
    if (n <= buf.length) return buf.subarray(0, n).slice();
    buf = new Uint8Array(n); // the value is larger than the buffer: ask again
  }
  return null; // not reached
}

function setString(set: (p: usize, n: usize) => i32, s: string): i32 {
  const b = String.UTF8.encode(s);
  return set(changetype<usize>(b), <usize>b.byteLength);
}

// ---- abort, trace and seed (aliased here by --use) ---------------------------

/**
 * gwAbort replaces AssemblyScript's env.abort: it logs the message and traps,
 * so the host discards the instance and applies on_error.
 */
export function gwAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let msg = "abort: " + (message != null ? message : "(no message)");
  if (fileName != null) msg += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  logError(msg);
  unreachable();
}

/** gwTrace replaces env.trace: it logs at debug level. */
export function gwTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let msg = "trace: " + message;
  const args: f64[] = [a0, a1, a2, a3, a4];
  for (let i = 0; i < n && i < 5; i++) msg += " " + args[i].toString();
  logDebug(msg);
}

/** gwSeed replaces env.seed (Math.random's seed) with WASI random_get. */
export function gwSeed(): f64 {
  const b = new ArrayBuffer(8);
  wasi_random_get(changetype<usize>(b), 8);
  return reinterpret<f64>(load<u64>(changetype<usize>(b))); // the runtime reinterprets it back to 64 bits
}

// ---- numbers ------------------------------------------------------------------

class Parsed {
  constructor(public ok: bool, public value: i64) {}
}

// parseDecimal parses a whole optionally signed decimal integer; a value
// outside i64 is not ok.
function parseDecimal(s: string): Parsed {
  let i = 0;
  let neg = false;
  if (s.length > 0 && (s.charCodeAt(0) == 45 || s.charCodeAt(0) == 43)) {
    neg = s.charCodeAt(0) == 45;
    i = 1;
  }
  if (i >= s.length) return new Parsed(false, 0);
  let v: u64 = 0;
  const limit: u64 = neg ? <u64>i64.MAX_VALUE + 1 : <u64>i64.MAX_VALUE;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return new Parsed(false, 0);
    const d = <u64>(c - 48);
    if (v > (limit - d) / 10) return new Parsed(false, 0);
    v = v * 10 + d;
  }
  return new Parsed(true, neg ? <i64>(0 - v) : <i64>v);
}

// arrayIndex parses an array index path segment as the Go SDK does: digits
// only, leading zeros ignored, at most 9 significant digits; -1 otherwise.
function arrayIndex(seg: string): i32 {
  let i = 0;
  while (i < seg.length - 1 && seg.charCodeAt(i) == 48) i++;
  const n = seg.length - i;
  if (n == 0 || n > 9) return -1;
  let v = 0;
  for (; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function isDigit(c: i32): bool { return c >= 48 && c <= 57; }

/**
 * parseNumber parses a whole JSON number ("12", "-3.5", "1e3"); NaN for
 * anything else, including trailing text, a leading "+" or hex.
 */
export function parseNumber(s: string): f64 {
  const n = s.length;
  let i = 0;
  if (i < n && s.charCodeAt(i) == 45) i++; // -
  if (i >= n) return NaN;
  if (s.charCodeAt(i) == 48) {
    i++;
  } else if (isDigit(s.charCodeAt(i))) {
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  } else {
    return NaN;
  }
  if (i < n && s.charCodeAt(i) == 46) { // .
    i++;
    if (i >= n || !isDigit(s.charCodeAt(i))) return NaN;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  }
  if (i < n && (s.charCodeAt(i) == 101 || s.charCodeAt(i) == 69)) { // e E
    i++;
    if (i < n && (s.charCodeAt(i) == 43 || s.charCodeAt(i) == 45)) i++;
    if (i >= n || !isDigit(s.charCodeAt(i))) return NaN;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
  }
  if (i != n) return NaN;
  return parseFloat(s);
}

// ---- JSON writing ---------------------------------------------------------------

/**
 * quote returns s as a JSON string literal, quotes included. A lone
 * surrogate becomes U+FFFD, so the result is always valid UTF-8 once
 * encoded.
 */
export function quote(s: string): string {
  const parts = new Array<string>();
  parts.push("\"");
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) esc = "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else if (c >= 0xd800 && c < 0xdc00) {
      if (i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) < 0xe000) {
        i++; // a valid pair: keep it
        continue;
      }
      esc = "\\ufffd";
    } else if (c >= 0xdc00 && c < 0xe000) esc = "\\ufffd";
    if (esc == null) continue;
    parts.push(s.substring(from, i));
    parts.push(esc);
    from = i + 1;
  }
  parts.push(s.substring(from));
  parts.push("\"");
  return parts.join("");
}

// ---- JSON scanning --------------------------------------------------------------

// jsonGet returns the value at a dotted path of the JSON document at p[0:n]
// (see Event.get). It tracks strings, escapes and nesting and never builds a
// tree; on input it cannot make sense of it returns null.
function jsonGet(p: usize, n: i32, path: string): string | null {
  let i = skipWS(p, n, 0);
  let start = 0;
  for (;;) {
    let dot = path.indexOf(".", start);
    const more = dot >= 0;
    if (!more) dot = path.length;
    const seg = path.substring(start, dot);
    if (i >= n) return null;
    const c = load<u8>(p + <usize>i);
    if (c == 0x7b) { // {
      i = member(p, n, i, seg);
    } else if (c == 0x5b) { // [
      const idx = arrayIndex(seg);
      if (idx < 0) return null;
      i = element(p, n, i, idx);
    } else {
      return null;
    }
    if (i < 0) return null;
    if (!more) {
      const end = skipValue(p, n, i);
      if (end < 0) return null;
      if (load<u8>(p + <usize>i) == 0x22) return unquote(p + <usize>i + 1, end - i - 2);
      return String.UTF8.decodeUnsafe(p + <usize>i, <usize>(end - i));
    }
    start = dot + 1;
  }
  return null; // not reached
}

function skipWS(p: usize, n: i32, i: i32): i32 {
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    i++;
  }
  return i;
}

// skipString returns the index after the string starting at p[i] (a quote).
function skipString(p: usize, n: i32, i: i32): i32 {
  i++;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x5c) { i += 2; continue; }
    if (c == 0x22) return i + 1;
    i++;
  }
  return -1;
}

// skipValue returns the index after the value starting at p[i].
function skipValue(p: usize, n: i32, i: i32): i32 {
  if (i >= n) return -1;
  const c = load<u8>(p + <usize>i);
  if (c == 0x22) return skipString(p, n, i);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (i < n) {
      const d = load<u8>(p + <usize>i);
      if (d == 0x22) {
        i = skipString(p, n, i);
        if (i < 0) return -1;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  if (c == 0x7d || c == 0x5d || c == 0x2c || c == 0x3a) return -1; // } ] , :
  // A number, true, false or null: up to the next delimiter.
  while (i < n && !isDelim(load<u8>(p + <usize>i))) i++;
  return i;
}

function isDelim(c: u8): bool {
  return c == 0x2c || c == 0x7d || c == 0x5d || c == 0x3a || c == 0x22 || c == 0x7b ||
    c == 0x5b || c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

// member returns the index of key's value in the object at p[i], or -1.
function member(p: usize, n: i32, i: i32, key: string): i32 {
  const k = String.UTF8.encode(key);
  const kp = changetype<usize>(k);
  const kn = k.byteLength;
  i = skipWS(p, n, i + 1);
  for (;;) {
    if (i >= n || load<u8>(p + <usize>i) != 0x22) return -1;
    const ke = skipString(p, n, i);
    if (ke < 0) return -1;
    const name = p + <usize>i + 1;
    const nameLen = ke - i - 2;
    i = skipWS(p, n, ke);
    if (i >= n || load<u8>(p + <usize>i) != 0x3a) return -1; // :
    i = skipWS(p, n, i + 1);
    if (keyEqual(name, nameLen, kp, kn)) return i;
    i = skipValue(p, n, i);
    if (i < 0) return -1;
    i = skipWS(p, n, i);
    if (i >= n || load<u8>(p + <usize>i) != 0x2c) return -1; // ,
    i = skipWS(p, n, i + 1);
  }
  return -1; // not reached
}

// element returns the index of element idx of the array at p[i], or -1.
function element(p: usize, n: i32, i: i32, idx: i32): i32 {
  i = skipWS(p, n, i + 1);
  if (i < n && load<u8>(p + <usize>i) == 0x5d) return -1;
  for (let k = 0; ; k++) {
    if (k == idx) return i < n ? i : -1;
    i = skipValue(p, n, i);
    if (i < 0) return -1;
    i = skipWS(p, n, i);
    if (i >= n || load<u8>(p + <usize>i) != 0x2c) return -1;
    i = skipWS(p, n, i + 1);
  }
  return -1; // not reached
}

// keyEqual compares a raw (possibly escaped) member name with a key.
function keyEqual(name: usize, nameLen: i32, key: usize, keyLen: i32): bool {
  if (nameLen == keyLen && memory.compare(name, key, <usize>keyLen) == 0) return true;
  for (let j = 0; j < nameLen; j++) {
    if (load<u8>(name + <usize>j) == 0x5c) {
      const u = unquote(name, nameLen);
      const k = String.UTF8.decodeUnsafe(key, <usize>keyLen);
      return u != null && u == k;
    }
  }
  return false;
}

function hexVal(c: u8): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function hex4(p: usize, n: i32, i: i32): i32 {
  if (i + 4 > n) return -1;
  let v = 0;
  for (let j = 0; j < 4; j++) {
    const h = hexVal(load<u8>(p + <usize>(i + j)));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

// unquote decodes the body of a JSON string (without its quotes) as the
// Go SDK does: a lone surrogate becomes U+FFFD; null on a bad escape. It
// writes into one buffer no longer than the input (an escape never decodes
// to more bytes than it takes), so its cost is linear.
function unquote(p: usize, n: i32): string | null {
  let plain = true;
  for (let i = 0; i < n; i++) {
    if (load<u8>(p + <usize>i) == 0x5c) { plain = false; break; }
  }
  if (plain) return String.UTF8.decodeUnsafe(p, <usize>n);
  const buf = new Uint8Array(n);
  const out = buf.dataStart;
  let o: usize = 0;
  let i = 0;
  while (i < n) {
    const c = load<u8>(p + <usize>i);
    if (c != 0x5c) {
      store<u8>(out + o++, c);
      i++;
      continue;
    }
    if (i + 1 >= n) return null;
    const e = load<u8>(p + <usize>(i + 1));
    let b: i32 = -1;
    if (e == 0x22 || e == 0x5c || e == 0x2f) b = e;
    else if (e == 0x62) b = 0x08;
    else if (e == 0x66) b = 0x0c;
    else if (e == 0x6e) b = 0x0a;
    else if (e == 0x72) b = 0x0d;
    else if (e == 0x74) b = 0x09;
    if (b >= 0) {
      store<u8>(out + o++, <u8>b);
      i += 2;
      continue;
    }
    if (e != 0x75) return null; // \u
    let cp = hex4(p, n, i + 2);
    if (cp < 0) return null;
    i += 6;
    if (cp >= 0xd800 && cp < 0xe000) {
      let pair = -1;
      if (cp < 0xdc00 && i + 6 <= n && load<u8>(p + <usize>i) == 0x5c && load<u8>(p + <usize>(i + 1)) == 0x75) {
        const lo = hex4(p, n, i + 2);
        if (lo >= 0xdc00 && lo < 0xe000) pair = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      if (pair >= 0) {
        cp = pair;
        i += 6;
      } else {
        cp = 0xfffd;
      }
    }
    o = putUTF8(out, o, cp);
  }
  return String.UTF8.decodeUnsafe(out, o);
}

// putUTF8 writes code point cp at out+o and returns the new offset.
function putUTF8(out: usize, o: usize, cp: i32): usize {
  if (cp < 0x80) {
    store<u8>(out + o, <u8>cp);
    return o + 1;
  }
  if (cp < 0x800) {
    store<u8>(out + o, <u8>(0xc0 | (cp >> 6)));
    store<u8>(out + o + 1, <u8>(0x80 | (cp & 0x3f)));
    return o + 2;
  }
  if (cp < 0x10000) {
    store<u8>(out + o, <u8>(0xe0 | (cp >> 12)));
    store<u8>(out + o + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(out + o + 2, <u8>(0x80 | (cp & 0x3f)));
    return o + 3;
  }
  store<u8>(out + o, <u8>(0xf0 | (cp >> 18)));
  store<u8>(out + o + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(out + o + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(out + o + 3, <u8>(0x80 | (cp & 0x3f)));
  return o + 4;
}
