// Command gateway-load drives the gateway's ingest endpoints and prints
// throughput and latency. It also serves the bare comparison handler, so the
// baseline runs as a process of its own, exactly like the gateway.
//
//	gateway-load [-url http://127.0.0.1:8080] [-c 64] [-d 10s] [-warmup 2s]
//	             [-mode single|batch] [-batch 100] [-size 200] [-key TOKEN]
//	             [-wait 10s] [-json]
//	gateway-load -bare 127.0.0.1:9090
//
// Load mode runs -c workers. They share one http.Transport that allows
// exactly -c connections to the host, so each worker keeps one keep-alive
// connection. A worker sends one request at a time: POST /v1/events with one
// event (-mode single) or POST /v1/events/batch with -batch events (-mode
// batch). Every event carries the worker number, a per-worker counter and
// the send time, padded to about -size bytes of data, so no two requests
// are the same. Requests completed during the -warmup are not counted; after
// it, every request completed within -d is. The report gives requests/s,
// events/s, latency percentiles, the number of non-2xx answers and transport
// errors, and the first few error bodies. -json prints the same as JSON.
// With -wait, the tool first polls GET /readyz until it answers 2xx.
//
// Bare mode (-bare ADDR) serves, on every path, a handler that reads the
// whole request body and answers 202 with a small JSON body, until SIGINT or
// SIGTERM. Its http.Server uses the same timeouts as the gateway's defaults.
// It is the ceiling the gateway is compared against: what net/http on this
// machine manages with no work behind it.
//
// bench.sh, next to this file, runs the whole comparison in BENCHMARKS.md.
package main
