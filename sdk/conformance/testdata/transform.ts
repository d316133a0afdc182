// Reference transform (same behaviour as transform.wat and transform.c):
// output {"wrapped":DATA} and return replaced; log info "transform: wrapped".
import { Event, Result, transform, replaceBytes, logInfo } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_transform(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return transform(m, ml, d, dl, wrap);
}

const PRE = '{"wrapped":';

function wrap(e: Event): Result {
  const pre = Uint8Array.wrap(String.UTF8.encode(PRE));
  const data = e.data;
  const out = new Uint8Array(pre.length + data.length + 1);
  out.set(pre, 0);
  out.set(data, pre.length);
  out[out.length - 1] = 0x7d; // }
  logInfo("transform: wrapped");
  return replaceBytes(out);
}
