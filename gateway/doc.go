// Package gateway is the composition root and the embedding API. New takes a
// validated *config.Config and Run wires the parts together and serves until
// its context ends:
//
//	store (Badger, group commit)  <- httpapi (ingest, registration)
//	   |
//	   +-- OnCommit -> bus.Notify -> subscriptions tail the log from their cursors
//
// The table of subscriber kinds lives in subscribers.go. Later capabilities
// (webhook delivery, Wasm plugins) add a row there, nothing else.
//
// A Gateway runs once: call Run a single time. Its accessors (Addr, Ready)
// are safe for concurrent use.
package gateway
