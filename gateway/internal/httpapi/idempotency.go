package httpapi

import (
	"strings"

	"github.com/eventgw/gateway/gateway/internal/store"
)

// Idempotency-Key header values are scoped per API key, as Stripe scopes
// them per account: the store key of header value K sent with API key
// "billing" is "h:billing\x00K" ("b:billing\x00K#i" for item i of a batch),
// so a key holding only the publish scope cannot claim, nor replay, the
// values another producer uses. With no API keys configured there is one
// namespace, "h:K", as before.
//
// Event ids and CloudEvents source+id stay global ("id:", "ce:"): they name
// the event itself, and one id must never mean two events.
//
// Keys stored before the scoping were "h:K" and "b:K#i" whatever the API
// key; a scoped draft carries that form as its LegacyIdemKey, which the
// store consults on a miss, so a retry across the upgrade still replays
// for as long as the old key is remembered (ingest.idempotency_window).

// scopeIdemKeys moves the drafts' Idempotency-Key header keys into the
// namespace of apiKey ("" leaves them shared).
func scopeIdemKeys(drafts []store.Draft, apiKey string) {
	if apiKey == "" {
		return
	}
	for i := range drafts {
		d := &drafts[i]
		for _, ns := range [...]string{idemHeader, idemBatch} {
			if rest, ok := strings.CutPrefix(d.IdemKey, ns); ok {
				d.LegacyIdemKey = d.IdemKey
				d.IdemKey = ns + apiKey + "\x00" + rest
				break
			}
		}
	}
}
