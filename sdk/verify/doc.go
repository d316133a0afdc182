// Package verify checks Standard Webhooks signatures for webhook receivers.
// It owns the receiving side of the scheme: parsing the webhook-id,
// webhook-timestamp and webhook-signature headers (or their svix-*
// aliases), enforcing the timestamp tolerance, and matching v1 (HMAC-SHA256,
// "whsec_" secret) and v1a (Ed25519, "whpk_" public key) signatures in
// constant time.
//
// A receiver builds one Verifier at start-up and calls VerifyRequest in its
// handler:
//
//	v, err := verify.New(os.Getenv("WEBHOOK_SECRET"))
//	...
//	body, err := v.VerifyRequest(r)
//	if err != nil {
//		http.Error(w, "invalid webhook", http.StatusUnauthorized)
//		return
//	}
//
// During a secret rotation, pass both the old and the new key; a message
// verifies if any of its signatures matches any key.
//
// A Verifier is immutable after New and safe for concurrent use. The package
// depends on the Go standard library only and imports nothing from the
// gateway.
package verify
