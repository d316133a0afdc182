// Reference observer (same behaviour as observer.wat and observer.c): kv_set
// "last" to the event data (no TTL), kv_delete "tmp", log debug
// "observe: stored".
import { Event, Result, observe, ok, fail, kvSet, kvDelete, logDebug, OK } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_observe(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return observe(m, ml, d, dl, store);
}

function store(e: Event): Result {
  if (kvSet("last", e.data) != OK) return fail("kv_set failed");
  if (kvDelete("tmp") != OK) return fail("kv_delete failed");
  logDebug("observe: stored");
  return ok();
}
