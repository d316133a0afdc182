// Package bus fans committed events out to in-process subscribers.
//
// The store, not memory, is the source of truth. Each subscription tails the
// event log from its own cursor: it reads a batch after the cursor, hands the
// matching events to its Subscriber, then moves the cursor past the batch.
// Durable subscriptions save their cursor in the store, so after a crash
// every event that was accepted but not yet handled is handled on restart.
// Nothing is pushed into bounded in-memory queues, so nothing can be dropped
// and a slow subscriber holds back only its own cursor. Ingest never waits
// for the bus: after a commit it calls Notify, which only wakes the
// subscription goroutines.
//
// A later NATS JetStream backend replaces the Log (a stream) and the cursors
// (durable consumers) behind the same Subscriber contract.
//
// Bus is safe for concurrent use once started; Subscribe must be called
// before Start. Notify, Dispatched and Lag may be called at any time: the
// store calls Notify from its first commit on, possibly before Start.
package bus
