// Command velocity is a test filter plugin: it denies a card's payments
// after max_per_window of them within the window (kv_incr with a TTL), and
// flags large amounts.
package main

import (
	"strconv"
	"time"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		card, ok := e.Get("card_id")
		if !ok {
			return sdk.Allow()
		}
		limit := int64(2)
		if v, ok := sdk.Config("max_per_window"); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				limit = n
			}
		}
		if n := sdk.KVIncr("card:"+card, 1, time.Minute); n > limit {
			return sdk.Deny("velocity: card " + card + " made " + strconv.FormatInt(n, 10) + " payments this minute")
		}
		if amount, ok := e.Get("amount"); ok {
			if a, err := strconv.Atoi(amount); err == nil && a > 1000 {
				return sdk.Flag("large amount " + amount)
			}
		}
		return sdk.Allow()
	})
}
