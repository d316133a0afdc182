// Reference filter (same behaviour as filter.wat and filter.c):
//  - kv_get "block": when the key exists, reason "blocked" and deny;
//  - kv_incr "count:USER" by 1 (TTL 60 s), where USER is the data's
//    top-level field "user" ("" when missing), log info "filter: counted",
//    metric_add "filtered" 1;
//  - when the count is over config "limit" (decimal, missing = 0), reason
//    "over limit" and deny; otherwise allow.
import { Event, Result, filter, allow, deny, fail, configInt, kvGet, kvIncr, logInfo, metricAdd } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_filter(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return filter(m, ml, d, dl, check);
}

function check(e: Event): Result {
  if (kvGet("block") != null) return deny("blocked");
  const user = e.get("user");
  const n = kvIncr("count:" + (user != null ? user : ""), 1, 60000);
  if (!n.ok) return fail("kv_incr: status " + n.status.toString());
  logInfo("filter: counted");
  metricAdd("filtered", 1);
  if (n.value > configInt("limit", 0)) return deny("over limit");
  return allow();
}
