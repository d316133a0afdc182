// A probe of the AssemblyScript SDK's JSON scanner for get_test.go: the
// data is {"path": P, "doc": D}; the filter flags with "+" and the value
// of e.get("doc." + P), or "-" when it is missing.
import { Event, Result, filter, flag } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_filter(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return filter(m, ml, d, dl, probe);
}

function probe(e: Event): Result {
  const path = e.get("path");
  if (path == null) return flag("no path");
  const v = e.get("doc." + path);
  return flag(v == null ? "-" : "+" + v);
}
