// Package webhook owns the webhook registration: the Webhook record, the
// validation rules shared by the HTTP API and the YAML config, and signing
// secrets (generation, display hints, and the key a receiver verifies with,
// which is never a "whsk_" private key), and custom delivery headers: the
// names a webhook may not set (hop-by-hop, proxy, Expect, and those the
// gateway sets itself) and the masking of their values in API answers,
// which treats them as write-only credentials (headers.go).
//
// Delivery (signing requests, retries, limits) belongs to a separate package;
// this one only says what a valid registration is.
//
// Webhook values are plain data and not safe for concurrent mutation; the
// store hands out copies.
package webhook
