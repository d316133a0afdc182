// Package delivery sends events to webhooks: signing, HTTP attempts, retries,
// limits and the egress guard.
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
package delivery
