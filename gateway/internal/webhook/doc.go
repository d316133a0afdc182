// Package webhook owns the webhook registration: the Webhook record, the
// validation rules shared by the HTTP API and the YAML config, and signing
// secrets (generation, display hints, and the key a receiver verifies with,
// which is never a "whsk_" private key).
//
// Delivery (signing requests, retries, limits) belongs to a separate package;
// this one only says what a valid registration is.
//
// Webhook values are plain data and not safe for concurrent mutation; the
// store hands out copies.
package webhook
