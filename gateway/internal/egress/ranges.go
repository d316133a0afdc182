package egress

import "net/netip"

// rangeRule is one row of the range table: either a blocked range with its
// reason, or a range of IPv6 addresses that embed an IPv4 address, which is
// then checked in its place.
type rangeRule struct {
	prefix netip.Prefix
	// reason completes "<address> is ...", e.g. "a private address (RFC 1918)".
	// For an embedding range it names the form, e.g. "an IPv4-mapped form".
	reason string
	// embed, if set, extracts the embedded IPv4 address. The range is then
	// blocked exactly when that address is.
	embed func(netip.Addr) netip.Addr
}

func block(prefix, reason string) rangeRule {
	return rangeRule{prefix: netip.MustParsePrefix(prefix), reason: reason}
}

func embedding(prefix, form string, embed func(netip.Addr) netip.Addr) rangeRule {
	return rangeRule{prefix: netip.MustParsePrefix(prefix), reason: form, embed: embed}
}

// rangeTable is the single list of ranges the default policy refuses,
// searched in order: the first range that contains an address decides, so a
// narrower range comes before any wider range that holds it.
//
// It is read-only: a constant in all but name. Policies never modify it.
var rangeTable = []rangeRule{
	// IPv4.
	block("0.0.0.0/8", `an unspecified or "this network" address (0.0.0.0/8)`),
	block("10.0.0.0/8", "a private address (RFC 1918)"),
	block("100.64.0.0/10", "a carrier-grade NAT address (RFC 6598)"),
	block("127.0.0.0/8", "a loopback address (127.0.0.0/8)"),
	block("169.254.0.0/16", "a link-local address (169.254.0.0/16, includes the cloud metadata service 169.254.169.254)"),
	block("172.16.0.0/12", "a private address (RFC 1918)"),
	block("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
	block("192.0.2.0/24", "a documentation address (RFC 5737)"),
	block("192.88.99.0/24", "a 6to4 relay anycast address (RFC 7526)"),
	block("192.168.0.0/16", "a private address (RFC 1918)"),
	block("198.18.0.0/15", "a benchmarking address (RFC 2544)"),
	block("198.51.100.0/24", "a documentation address (RFC 5737)"),
	block("203.0.113.0/24", "a documentation address (RFC 5737)"),
	block("224.0.0.0/4", "a multicast address (224.0.0.0/4)"),
	block("255.255.255.255/32", "the limited broadcast address"),
	block("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),

	// IPv6: unspecified and loopback, then the forms that embed IPv4 (::/96
	// holds :: and ::1, so they come first).
	block("::/128", "the unspecified address (::)"),
	block("::1/128", "a loopback address (::1)"),
	embedding("::ffff:0:0/96", "an IPv4-mapped form", netip.Addr.Unmap),
	embedding("::/96", "an IPv4-compatible form", last32),
	embedding("64:ff9b::/96", "a NAT64 form (64:ff9b::/96)", last32),
	embedding("64:ff9b:1::/48", "a local-use NAT64 form (64:ff9b:1::/48)", last32),
	embedding("2001::/32", "a Teredo form", teredoClient),
	embedding("2002::/16", "a 6to4 form", sixToFour),

	// Other IPv6.
	block("100::/64", "a discard-only address (RFC 6666)"),
	block("2001:2::/48", "a benchmarking address (RFC 5180)"),
	block("2001:db8::/32", "a documentation address (RFC 3849)"),
	block("3fff::/20", "a documentation address (RFC 9637)"),
	block("fc00::/7", "a unique-local address (fc00::/7)"),
	block("fe80::/10", "a link-local address (fe80::/10)"),
	block("fec0::/10", "a site-local address (fec0::/10, deprecated)"),
	block("ff00::/8", "a multicast address (ff00::/8)"),
	// Everything outside global unicast 2000::/3 that no row above took.
	block("::/3", "a reserved address outside the IPv6 global unicast range 2000::/3"),
	block("4000::/2", "a reserved address outside the IPv6 global unicast range 2000::/3"),
	block("8000::/1", "a reserved address outside the IPv6 global unicast range 2000::/3"),
}

// last32 returns the IPv4 address in the last 32 bits of a (IPv4-compatible
// and NAT64 /96 layouts).
func last32(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
}

// sixToFour returns the IPv4 address in bits 16–48 of a 2002::/16 address
// (RFC 3056).
func sixToFour(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
}

// teredoClient returns the client's public IPv4 address of a Teredo address
// (RFC 4380): the last 32 bits, each one inverted.
func teredoClient(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
}
