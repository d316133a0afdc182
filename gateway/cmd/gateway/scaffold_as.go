package main

// The AssemblyScript project templates of `plugin new --lang
// assemblyscript`: assembly/index.ts, a copy of the SDK in eventgw-sdk/
// (the package.json depends on it with a file: path), and an asconfig.json
// that extends the SDK's compiler flags.

const asFilter = `// {{.Name}}: a gateway filter plugin in AssemblyScript (eventgw-sdk). It
// denies an event whose data.amount is over the max_amount config value,
// and allows the rest.
import { Event, Result, filter, allow, deny, config, logWarn, parseNumber } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_filter(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return filter(m, ml, d, dl, check);
}

function check(e: Event): Result {
  const limit = config("max_amount");
  if (limit == null) return allow();
  const max = parseNumber(limit);
  if (isNaN(max)) {
    logWarn("max_amount is not a number: " + limit);
    return allow();
  }
  const amount = e.get("amount"); // one field, without decoding the rest
  if (amount != null && parseNumber(amount) > max) {
    return deny("amount " + amount + " is over " + limit);
  }
  return allow();
}
`

const asTransform = `// {{.Name}}: a gateway transform plugin in AssemblyScript (eventgw-sdk). It
// adds a "tagged_by" field, the tag config value (default "{{.Name}}"), to
// the event's data, which must be a JSON object.
import { Event, Result, transform, replace, fail, config, quote } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_transform(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return transform(m, ml, d, dl, tag);
}

function tag(e: Event): Result {
  const data = e.dataString().trim();
  if (data.length < 2 || !data.startsWith("{") || !data.endsWith("}")) {
    return fail("data is not a JSON object"); // the gateway applies on_error
  }
  const body = data.substring(1, data.length - 1).trim();
  const value = config("tag");
  const field = '"tagged_by":' + quote(value != null ? value : "{{.Name}}");
  return replace("{" + (body.length > 0 ? body + "," : "") + field + "}");
}
`

const asObserver = `// {{.Name}}: a gateway observer plugin in AssemblyScript (eventgw-sdk). It
// logs one line per event and counts the events in the "events" metric.
import { Event, Result, observe, ok, logInfo, metricAdd } from "eventgw-sdk";
export { gw_abi_v1, gw_alloc } from "eventgw-sdk";

export function gw_observe(m: usize, ml: usize, d: usize, dl: usize): i32 {
  return observe(m, ml, d, dl, watch);
}

function watch(e: Event): Result {
  logInfo("event " + e.type + " " + e.id);
  metricAdd("events", 1);
  return ok();
}
`

const asPackageJSON = `{
  "name": "{{.Name}}",
  "version": "0.1.0",
  "private": true,
  "scripts": {
    "build": "asc assembly/index.ts --outFile {{.Name}}.wasm"
  },
  "dependencies": {
    "eventgw-sdk": "file:./eventgw-sdk"
  },
  "devDependencies": {
    "assemblyscript": "{{.ASCVersion}}"
  }
}
`

const asConfigJSON = `{
  "extends": "./node_modules/eventgw-sdk/asconfig.json"
}
`

const asTSConfig = `{
  "extends": "../node_modules/assemblyscript/std/assembly.json",
  "include": ["./**/*.ts"]
}
`
