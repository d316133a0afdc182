// Package outbox owns the delivery domain: the record of one event on its
// way to one webhook (Delivery), its statuses, the log of its HTTP attempts
// (Attempt), and the one function that moves a delivery from status to
// status (Step, in transition.go).
//
// It is the vocabulary shared by the delivery engine, which decides, and
// the store, which persists: store imports outbox, never the other way
// round. The package is pure: no I/O, no clock (callers pass the time), no
// goroutines. Its values are plain data and are not safe for concurrent
// mutation; copies are.
package outbox
