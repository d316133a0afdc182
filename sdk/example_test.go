//go:build !wasip1

package sdk_test

import (
	"fmt"
	"strconv"
	"time"

	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/sdktest"
)

// A plugin is package main with an empty main and this init: a fraud
// filter that denies payments over the configured limit and flags a card
// used more than three times a minute.
func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		limit, _ := sdk.Config("max_amount")
		maxAmount, _ := strconv.ParseFloat(limit, 64)
		amount, _ := e.Get("amount")
		if a, err := strconv.ParseFloat(amount, 64); err == nil && maxAmount > 0 && a > maxAmount {
			return sdk.Deny("amount " + amount + " over " + limit)
		}
		if card, ok := e.Get("card.fingerprint"); ok && sdk.KVIncr("card:"+card, 1, time.Minute) > 3 {
			return sdk.Flag("card used more than 3 times a minute")
		}
		return sdk.Allow()
	})
}

// Its tests run natively, against the fake host.
func Example() {
	sdktest.Reset()
	sdktest.SetConfig("max_amount", "10000")
	fmt.Println(sdktest.Run(sdktest.NewEvent("payment.created", `{"amount": 12000}`)))
	for range 4 {
		fmt.Println(sdktest.Run(sdktest.NewEvent("payment.created", `{"amount": 50, "card": {"fingerprint": "f1"}}`)))
	}
	// Output:
	// filter: deny (amount 12000 over 10000)
	// filter: allow
	// filter: allow
	// filter: allow
	// filter: flag (card used more than 3 times a minute)
}
