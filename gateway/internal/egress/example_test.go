package egress_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/eventgw/gateway/gateway/internal/egress"
)

// Wiring a policy into the delivery client. Every connection the transport
// opens goes through the policy's dialer, which checks each resolved
// address before connecting.
func Example() {
	// delivery.allow_private: false, delivery.allowed_cidrs: [127.0.0.0/8],
	// as in the quickstart config.
	policy, err := egress.NewPolicy(false, []string{"127.0.0.0/8"})
	if err != nil {
		panic(err)
	}
	client := &http.Client{
		Transport: &http.Transport{
			// No proxy: through a proxy the check would see the proxy's
			// address instead of the webhook's.
			Proxy:               nil,
			DialContext:         policy.NewDialer(10 * time.Second).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 8,
		},
		// Webhook deliveries never follow redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       15 * time.Second,
	}
	_ = client

	// At registration: a 422 for literal addresses in blocked ranges.
	fmt.Println(policy.CheckURL("http://169.254.169.254/latest/meta-data/"))
	fmt.Println(policy.CheckURL("http://0x7f.1:8080/hook"))
	fmt.Println(policy.CheckURL("https://hooks.example.com/in"))
	// Output:
	// egress: 169.254.169.254 is a link-local address (169.254.0.0/16, includes the cloud metadata service 169.254.169.254); set delivery.allow_private or add it to delivery.allowed_cidrs
	// <nil>
	// <nil>
}

func ExamplePolicy_Check() {
	var policy egress.Policy // the zero Policy is the default policy
	for _, s := range []string{"10.0.0.5", "64:ff9b::a00:5", "2002:808:808::1"} {
		fmt.Println(policy.Check(netip.MustParseAddr(s)))
	}
	// Output:
	// egress: 10.0.0.5 is a private address (RFC 1918); set delivery.allow_private or add it to delivery.allowed_cidrs
	// egress: 64:ff9b::a00:5 is a NAT64 form (64:ff9b::/96) of 10.0.0.5, which is a private address (RFC 1918); set delivery.allow_private or add it to delivery.allowed_cidrs
	// <nil>
}
