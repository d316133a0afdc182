// Package event owns the gateway's vocabulary for events: the Event value,
// time-ordered identifiers, event-type syntax and NATS-style subject patterns.
//
// It depends on the standard library only, so that the SDK, the store and
// any future bus backend (NATS JetStream) can share it.
//
// Event types are dot-separated segments of [A-Za-z0-9_-], at most 255
// characters: "link.clicked", "payment.card_v2.charged".
//
// Patterns use the NATS subject syntax, which maps one-to-one onto JetStream
// subject filters:
//
//	link.clicked   exactly that type
//	link.*         one segment after "link": link.clicked, not link.a.b
//	link.>         one or more segments after "link": link.a, link.a.b
//	>              every type
//
// Index finds the values whose patterns match an event type with a subject
// trie, so that the cost does not grow with the number of patterns that do
// not match.
//
// Values in this package are immutable after construction and safe for
// concurrent use. IDGen and Index are safe for concurrent use.
package event
