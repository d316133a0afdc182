// Command gateway-load drives the gateway's ingest endpoints and prints
// throughput and latency. It also serves the bare comparison handler, so the
// baseline runs as a process of its own, exactly like the gateway.
//
//	gateway-load [-url http://127.0.0.1:8080] [-c 64] [-d 10s] [-warmup 2s]
//	             [-mode single|batch] [-batch 100] [-size 200] [-key TOKEN]
//	             [-wait 10s] [-json]
//	gateway-load -bare 127.0.0.1:9090
//	gateway-load -mode deliver [-fanout 1] [-max-in-flight N] [-rate EVENTS/S]
//	             [-window 5000] [-decoys N] [-retry-schedule 1h,...]
//	             [-raw-c 64] [-recv 127.0.0.1:0] [-drain 2m] [-pid PID] ...
//	gateway-load -mode pending [-n 100000] [-fanout 1] [-slow 2s | -hang ADDR]
//	             [-retry-schedule 1h,...] [-settle 5s]
//	             [-pid PID | -gw BINARY -config FILE [-data DIR] [-gw-log FILE]]
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
// Delivery mode (-mode deliver) measures webhook delivery end to end. The
// tool runs the webhook receiver itself (on -recv): it verifies every
// request with sdk/verify, checks that the body's id is the webhook-id, and
// tallies each delivery by webhook and by the event number the event's data
// carries, with its arrival time. First, unless -raw-c is 0, it measures the
// raw ceiling: -raw-c workers with an HTTP client set up like the gateway's
// delivery sender POST signed deliveries of the same shape straight to the
// receiver for -warmup plus -d. Then, with -decoys N, it registers N
// webhooks through the API (16 requests at a time) whose patterns,
// "t<i>.order.*" and "t<i>.invoice.paid", match nothing it publishes, so
// that fan-out has to rule out N webhooks for every event. Then it registers
// -fanout webhooks, all pointing at the receiver and taking every
// load.deliver event (with -max-in-flight and -retry-schedule, if given),
// and publishes events of -batch (1: POST /v1/events) for -warmup plus -d.
// Each event's data carries sent_ns, the time just before its publish
// request.
//
// Without -rate, -c publishers each send one request after another, as
// fast as the gateway answers, while at most -window published events are
// undelivered (-window 0: no limit). With -rate, a 1 ms ticker works out how
// many publishes are due at -rate events/s (publish k at k×batch/rate) and
// starts each in a goroutine of its own, so a slow answer never holds back
// the next one: at 1000 events/s one publish a tick, at 200/s one every
// fifth tick, at 4000/s four a tick. -c then only sizes the pool of idle
// connections. The report counts the publishes that started over 2 ms
// late and the most that were in flight at once.
//
// The report gives deliveries/s received during -d, the same per event
// (divided by the fan-out), and the end-to-end rate: every (webhook, event)
// pair that arrived, divided by the publish time (from the first publish
// until the last publish returned) plus the drain time (from then until the
// last arrival). It gives publish-to-delivery latency (arrival minus
// sent_ns) at p50/p95/p99 for events sent during -d, and, after waiting up
// to -drain for the backlog, how many (webhook, event) pairs are missing and
// how many deliveries were duplicates. With the raw ceiling it gives both
// rates' ratio to it. With -pid it also reports the CPU the gateway, the
// tool and everything else used during -d; cpu/delivery, the gateway's CPU
// time from the first publish until the backlog drained divided by the
// deliveries that arrived (so publishing and fan-out are part of each
// delivery's cost); and the gateway's VmRSS and VmHWM at the end of -d.
// The webhooks, decoys included, are deleted at the end.
//
// Pending mode (-mode pending) registers -fanout webhooks whose endpoint
// answers 503 after -slow or, with -hang ADDR, is served on ADDR and reads
// each request and never answers (with -retry-schedule 1h a delivery then
// waits an hour after its one failed attempt). It publishes -n events in
// batches of -batch from -c workers, waits until the bus has dispatched
// every event (so every delivery exists and waits for its endpoint), and
// reports the gateway's memory from /proc/<pid>/status (VmRSS, VmHWM) then
// and -settle later, and the number of unfinished deliveries counted
// through the API. With -gw BINARY the tool runs the gateway itself,
// "BINARY serve --config FILE --data DIR --addr <host:port of -url>" (-data
// empty: a temporary directory, removed at the end; -gw-log: where its
// output goes), so -pid is not needed. Once the memory is read it kills the
// gateway with SIGKILL, starts it again on the same data directory, and
// reports the time from the start of the process to GET /readyz 200 and the
// memory then and -settle later; the unfinished deliveries are counted
// after the restart, so they also show that none was lost. At the end it
// stops the gateway with SIGTERM.
//
// Memory: in load mode, -pid samples the gateway's VmRSS every 100 ms and
// reports the peak (and VmHWM); -hang ADDR first registers one webhook
// taking every event whose receiver, served on ADDR, reads each delivery
// and never answers. A worker that gets 503 or 429 with Retry-After waits
// that long (at most 10 s) before its next request; those answers are
// counted as "overloaded".
//
// bench.sh, next to this file, runs the ingest comparison in BENCHMARKS.md;
// delivery_bench.sh runs every delivery scenario of issue 11 and prints a
// table of figures against targets; mem_bench.sh the memory figures with
// 1 MiB events and the cost of server.memory_limit.
package main
