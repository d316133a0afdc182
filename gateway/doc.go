// Package gateway is the composition root and the embedding API. New takes a
// validated *config.Config and Run wires the parts together and serves until
// its context ends:
//
//	store (Badger, group commit)  <- httpapi (ingest [+ ingest filters], registration, plugins)
//	   |
//	   +-- OnCommit -> bus.Notify -> subscriptions tail the log from their cursors
//	                     |
//	                     +-- "webhooks": pipeline (filters, transforms) -> fan-out -> delivery engine
//	                     +-- "plugins:observers": observer plugins (and operational events)
//
// The table of subscriber kinds lives in subscribers.go.
//
// A Gateway runs once: call Run a single time. Its accessors (Addr, Ready)
// are safe for concurrent use.
package gateway
