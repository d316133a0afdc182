// Package schedule decides which delivery is attempted next. It is the
// delivery engine's scheduler, as a plain data structure: no goroutines, no
// store, no clock. Every method that depends on time takes the time as an
// argument, so tests drive it through fake time, the way one tests a heap.
//
// A Scheduler holds, per webhook, the queue of deliveries waiting for an
// attempt (only their event seq and due time: 24 bytes each) and the
// limits that apply to the endpoint:
//
//   - max in flight, and ordered mode (one in flight, in event order, where
//     a failed head holds back the rest);
//   - a token bucket for the rate limit;
//   - a circuit breaker: after BreakerFailures consecutive failures the
//     endpoint is open for a cooldown taken from the retry schedule, then
//     half-open: one probe at a time until an attempt succeeds;
//   - a pause (the receiver's Retry-After, or a missing transform plugin)
//     that holds back every delivery of the endpoint;
//   - auto-disable: failing continuously for DisableAfter.
//
// Webhooks that have work are kept in a heap keyed on the time their next
// delivery becomes eligible, so Next and Wake cost O(log n) in webhooks, not
// O(n): a webhook that waits (a retry an hour away, an open breaker, a
// full in-flight window) is not looked at until it can send. Webhooks that
// are eligible at the same time take turns: one that just sent goes back
// into the heap behind them.
//
// Wake is exact: after Next reports false, it is the time the next
// delivery becomes eligible, to the nanosecond (the token bucket counts in
// integer nanoseconds for that), so the engine's timer neither fires late
// nor for nothing. Times are Unix nanoseconds inside; the engine should
// pass times that do not go back (Next copes if they do, once, at a cost
// of O(webhooks)).
//
// A queued delivery takes 24 bytes (about 28 with the slack of a growing
// slice: a million take under 30 MiB), in a binary heap of its webhook's
// own. No map is kept per delivery: the few in flight are in a small
// slice, and the deliveries a hold sent back wait beside the heap until
// the hold ends.
//
// A Scheduler is not safe for concurrent use: the delivery engine's loop
// goroutine owns it.
package schedule
