// Package delivery sends events to webhooks: fan-out, scheduling, signing,
// HTTP attempts, retries, limits and the egress guard.
//
// # The engine in three parts
//
//  1. outbox.Step, a pure function, is the only place a delivery's status
//     changes. Given a delivery, what happened (an attempt's outcome, a
//     missing event or transform, a webhook disabled, an operator's retry)
//     and the time, it returns the next state and the effects to carry out.
//  2. schedule.Scheduler, a plain struct with no goroutine, no store and no
//     clock, holds the per-webhook queues and limits (max in flight, rate,
//     breaker, ordered mode, pauses) and says what may go now and when to
//     wake next, in O(log n) webhooks.
//  3. Goroutines with one job each, below.
//
// # Goroutines, and who owns what
//
//	bus ──Handle──▶ fan-out ──op──▶ writer ──stored, in order──▶ loop ──job──▶ workers
//	API ──op──────────────────────▶ writer                        ▲               │
//	                                  ▲                            └──────────────┘
//	                                  └───────────── outcome op ◀─────────────────┘
//
// Each goroutine has one job:
//
//   - fan-out (the bus's goroutine, Handle) runs the plugin pipeline, matches
//     webhooks (matcher) and hands new deliveries to the writer. It returns
//     once they are stored, so the bus cursor only passes events whose
//     deliveries exist.
//   - the writer (writer.go) is the only goroutine that writes delivery
//     state. It batches attempt outcomes and fan-out's creates into one
//     transaction, and carries out parks, resumes, closes, retries, replays,
//     discards and disables. After each write it tells the loop, on one
//     channel (Engine.cmds), in the order it wrote. So the store knows a
//     change before the scheduler acts on it.
//   - the loop (loop.go) owns the Scheduler, the hooks (each webhook's
//     settings, immutable once built) and the events held for first
//     attempts. It never touches the store: it applies what the writer
//     stored, answers the API's questions, and hands due deliveries to the
//     workers. Its own decisions (disable a webhook after 410 Gone or too
//     long failing) take effect in memory at once and go to the writer.
//   - workers (work.go) read the delivery and its event when the job does
//     not carry them, run the webhook's transform, sign, POST through the
//     egress guard, apply outbox.Step, and hand the result to the writer.
//     They never write.
//   - the API (control.go) sends its changes to the writer and waits until
//     the loop has applied them.
//
// Nothing blocks in a cycle: the writer's queue is a slice (submit never
// blocks), the loop hands a job only when a worker is free, and the writer
// waits only for the loop, which waits for no one. There are no locks
// besides the writer's queue mutex and the matcher's RWMutex, and neither is
// held while taking another.
//
// # Durability
//
// None of the writer's transactions is synced (only ingest is; see the store
// package). After a crash every write here is re-derived: fan-out runs
// again from the bus cursor and creates nothing twice (ids derive from the
// event and the webhook), and a lost outcome means the attempt is made
// again: at-least-once, with duplicates bounded by what was in flight.
//
// # Signing and the egress guard
//
// Signing follows Standard Webhooks: a Signer turns "whsec_" secrets (v1,
// HMAC-SHA256) and "whsk_" keys (v1a, Ed25519) into the webhook-signature
// header value, and SetHeaders writes the three webhook-* headers. A Signer
// is immutable once built and safe for concurrent use by any number of
// delivery workers. The deliveries of an event a filter flagged also carry
// HeaderFlags (webhook-flags), outside the signed content.
//
// An attempt the egress guard refuses to connect fails like any other
// (retried on the schedule, its error names delivery.allow_private and
// delivery.allowed_cidrs) and is reported to Options.Audit, from the worker
// that made it, with the webhook, the URL host and the guard's reason.
//
// A receiver is untrusted: its answer is read up to
// delivery.max_response_bytes, and its response headers up to 64 KiB, past which
// the attempt fails. Go's default of 10 MB per connection let 64 workers
// hold 640 MB for receivers sending huge headers.
package delivery
