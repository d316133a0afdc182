// Package audit writes the gateway's audit trail: one structured line for
// each event a security review asks about, written through its own
// *slog.Logger so it can go to a file of its own (audit.file).
//
// The lines, each with "audit": true and a "kind" naming the method:
//   - auth_failed: a request refused for its API key (missing, invalid or
//     lacking a scope), with the remote address, the reason and a hint of
//     the key presented (its last four characters, never more);
//   - changed: a webhook or plugin created, updated, deleted, enabled,
//     disabled or its secret rotated, with the API key name that did it
//     ("" when the API has no keys);
//   - dial_blocked: a delivery the egress guard refused to connect, with
//     the webhook, the URL host and why;
//   - plugin_timeout: a plugin call that ran past its deadline.
//
// No line carries a secret: no key, no header value, no event data. The
// message is the kind, so a plain grep of the main log finds the lines too.
//
// A *Log is safe for concurrent use; slog handlers serialise their writes.
// A nil *Log discards everything, so a component built without one (tests,
// embedders that do not want the trail) needs no check.
package audit
