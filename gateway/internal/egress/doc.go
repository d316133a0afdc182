// Package egress is the SSRF guard for outbound deliveries. It decides which
// IP addresses a webhook delivery may connect to.
//
// By default a Policy refuses every address that is not globally reachable:
// loopback, private (RFC 1918), carrier-grade NAT, link-local (including the
// cloud metadata service 169.254.169.254), unique-local, multicast,
// unspecified, documentation, benchmarking and reserved space. It also
// refuses the IPv6 forms that carry such an IPv4 address inside them:
// IPv4-mapped, IPv4-compatible, NAT64, 6to4 and Teredo. An embedded address
// that is public is allowed. The ranges, each with its reason, live in one
// table in ranges.go; the first range that contains an address decides.
//
// Two settings open the guard: delivery.allow_private (allow everything) and
// delivery.allowed_cidrs (allow these ranges; a range matches an address or
// the IPv4 address embedded in it, so 127.0.0.0/8 also opens
// ::ffff:127.0.0.1).
//
// # Where the check runs
//
// The real guard is at dial time. Policy.Control is a net.Dialer Control
// function: the dialer calls it for every IP address it tries, after DNS
// resolution and before connect. A name that resolves to a public address at
// registration and to 127.0.0.1 at delivery (DNS rebinding) is therefore
// still refused, and the address that was checked is the address the socket
// connects to. Policy.DialContext and Policy.NewDialer package this for an
// http.Transport.
//
// Policy.CheckURL is the registration-time check, there to give an early 422.
// It refuses a URL whose host is a literal IP address in a blocked range, in
// any notation a client might accept (dotted quad, bracketed IPv6, and the
// inet_aton forms 2130706433, 0x7f.1, 0177.0.0.1, 127.1), and the names
// "localhost" and "*.localhost". It does not resolve other names: the answer
// could change before delivery, so only the dial-time check counts.
// A dial-time refusal fails the attempt, and the delivery engine writes it
// to the audit trail (audit.file) with the webhook and the URL host.
//
// # Limits
//
//   - A transport that sends requests through a proxy dials the proxy, not the
//     webhook, so the check sees the proxy's address. Leave
//     http.Transport.Proxy nil, or make the proxy do its own filtering.
//     Likewise a Transport.DialTLSContext replaces DialContext for HTTPS and
//     must not be set, and a dialer from NewDialer must keep its Control.
//   - The guard knows address ranges, not the host's network. An internal
//     service on a public address, or the gateway's own public address, is
//     not blocked; list nothing there, or isolate the delivery workers.
//   - The local-use NAT64 prefix 64:ff9b:1::/48 is read with the /96 layout of
//     RFC 6052 (IPv4 address in the last 32 bits), as for 64:ff9b::/96.
//
// A Policy is immutable after NewPolicy and safe for concurrent use. The
// zero Policy is the default policy: everything in the table is blocked and
// nothing is opened.
package egress
