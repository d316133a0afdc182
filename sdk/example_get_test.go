//go:build !wasip1

package sdk_test

import (
	"fmt"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func ExampleEvent_Get() {
	e := sdktest.NewEvent("order.created", `{
		"customer": {"email": "ann@example.com", "name": "Ann \"A\" O'Neil"},
		"items": [{"sku": "A-1"}, {"sku": "B-2"}],
		"amount": 12.50, "paid": true, "coupon": null
	}`).SDKEvent()

	for _, path := range []string{"customer.email", "customer.name", "items.1.sku", "amount", "paid", "coupon", "items.0", "missing"} {
		v, ok := e.Get(path)
		fmt.Printf("%s: %s %v\n", path, v, ok)
	}
	// Output:
	// customer.email: ann@example.com true
	// customer.name: Ann "A" O'Neil true
	// items.1.sku: B-2 true
	// amount: 12.50 true
	// paid: true true
	// coupon: null true
	// items.0: {"sku": "A-1"} true
	// missing:  false
}
