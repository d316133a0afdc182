// Package httpapi is the gateway's HTTP front door: routes, authentication,
// request decoding (JSON and CloudEvents), and the mapping from errors to
// HTTP statuses.
//
// Every JSON body passes jsonstrict.Check before it is decoded (checkJSON
// in decode.go): a duplicate key, invalid UTF-8 or nesting past
// ingest.max_json_depth answers 400 duplicate_key, invalid_utf8 or too_deep
// with the JSON path, so plugins and receivers read the same document.
// A body with Content-Encoding: gzip is decompressed first, under the same
// size cap (gzip.go); another encoding answers 415.
//
// Idempotency-Key header values are scoped per API key name
// (idempotency.go); event ids and CloudEvents source+id are global.
//
// Every error leaves as {"error":{"code","message","field"?}} with the status
// carried by *Error. Every list endpoint answers {"data":[...],
// "next_cursor":"..."}; the cursor is opaque and empty on the last page.
//
// Each route declares the query parameters it takes (params, in routes);
// any other, or a single-valued one given twice, answers 400
// invalid_parameter naming it before the handler runs.
//
// Authorization takes "Bearer <key>" with the scheme in any case. Every
// refused key, and every webhook or plugin change with the name of the key
// that made it, is written to Options.Audit (package audit). Webhook header
// values are write-only: answers show webhook.HeaderHint of each.
//
// The handlers depend only on the small interfaces in deps.go, which the
// Badger store implements today and a NATS JetStream backend can implement
// later. The Handler returned by New is safe for concurrent use.
package httpapi
