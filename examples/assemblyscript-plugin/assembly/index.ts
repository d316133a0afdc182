// A small gateway filter in AssemblyScript, built with eventgw-sdk (the
// gateway's AssemblyScript SDK, sdk/assemblyscript). The same filter as
// examples/c-plugin/filter.c:
//
//  - "country": when it is one of config "blocked" (comma-separated, spaces
//    around entries ignored), the event is denied with the reason
//    "country XX is blocked";
//  - "amount": when it is a number above config "flag_above", the event is
//    flagged (still delivered) with the reason
//    "amount N is above flag_above M";
//
// otherwise it is allowed. A missing or non-numeric flag_above flags
// nothing; a missing blocked list blocks nothing.
import { Event, Result, filter, allow, deny, flag, config, parseNumber } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_filter(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return filter(m, ml, d, dl, check);
}

function check(e: Event): Result {
  const country = e.get("country");
  if (country != null && country.length > 0 && inList(config("blocked"), country)) {
    return deny("country " + country + " is blocked");
  }
  const amount = e.get("amount");
  const limit = config("flag_above");
  if (amount != null && limit != null) {
    const a = parseNumber(amount);
    const max = parseNumber(limit);
    if (!isNaN(a) && !isNaN(max) && a > max) {
      return flag("amount " + amount + " is above flag_above " + limit);
    }
  }
  return allow();
}

// inList reports whether s is one of the comma-separated entries of list.
function inList(list: string | null, s: string): bool {
  if (list == null) return false;
  const entries = list.split(",");
  for (let i = 0; i < entries.length; i++) {
    if (entries[i].trim() == s) return true;
  }
  return false;
}
