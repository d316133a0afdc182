package egress

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// loopbackV4 and loopbackV6 stand for a "localhost" name at registration.
var (
	loopbackV4 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopbackV6 = netip.IPv6Loopback()
)

// CheckURL is the registration-time check of a webhook URL. It refuses, with
// an error wrapping ErrBlocked, a URL whose host is
//   - a literal IP address that Check refuses, bracketed IPv6 included;
//   - a numeric IPv4 form that some client would read as such an address:
//     2130706433, 0x7f.1, 0177.0.0.1, 127.1 and the like (inet_aton rules;
//     when every part is decimal, the plain decimal reading is checked too,
//     so 010.0.0.1 is refused as 10.0.0.1 as well as read as 8.0.0.1);
//   - "localhost" or a name under ".localhost", unless a loopback address
//     is opened.
//
// A URL that does not parse, has no host, or whose host ends in a number but
// is not a valid IPv4 address (1.2.3.4.5, 08.1, example.123) fails with an
// error wrapping ErrInvalidURL.
//
// Other host names are not resolved: the answer may change before delivery,
// and the dial-time check in Control is the guard that counts. CheckURL
// does not judge the scheme, port or path.
func (p *Policy) CheckURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	raw := u.Hostname()
	if raw == "" {
		return fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	if ip, err := netip.ParseAddr(raw); err == nil {
		return p.Check(ip)
	}
	host := foldHost(raw)
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.checkHost(raw, ip, "a form of %s")
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		if p.check(loopbackV4) == nil || p.check(loopbackV6) == nil {
			return nil
		}
		return &BlockedError{
			Target: raw,
			Addr:   loopbackV4,
			Range:  netip.MustParsePrefix("127.0.0.0/8"),
			Reason: "a loopback name (RFC 6761)",
		}
	}
	if !endsInNumber(host) {
		return nil
	}
	ip, ok := parseInetAton(host, false)
	if !ok {
		return fmt.Errorf("%w: host %q looks like an IPv4 address but is not a valid one", ErrInvalidURL, raw)
	}
	if err := p.checkHost(raw, ip, "a numeric form of %s"); err != nil {
		return err
	}
	if dec, ok := parseInetAton(host, true); ok && dec != ip {
		return p.checkHost(raw, dec, "%s when read as decimal")
	}
	return nil
}

// checkHost checks ip, which the URL host raw denotes, and words a refusal
// in terms of raw; how is a format for the address, such as "a form of %s".
func (p *Policy) checkHost(raw string, ip netip.Addr, how string) error {
	e := p.check(ip)
	if e == nil {
		return nil
	}
	e.Target = raw
	e.Reason = fmt.Sprintf(how, ip) + ", which is " + e.Reason
	return e
}

// foldHost lower-cases host, drops one trailing dot, and maps the fullwidth
// forms of ASCII (U+FF01–U+FF5E) and the ideographic full stops to ASCII, as
// IDNA lookup mapping does: net/http would dial "１２７.０.０.１" as
// 127.0.0.1. Other compatibility characters are left to the dial-time check.
func foldHost(host string) string {
	host = strings.TrimSuffix(host, ".")
	if isASCII(host) {
		return strings.ToLower(host)
	}
	var b strings.Builder
	for _, r := range host {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == '\u3002' || r == '\uFF61':
			r = '.'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimSuffix(b.String(), ".")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// endsInNumber reports whether the last label of host (a trailing dot
// already removed) is a number, decimal or 0x-hex ("0x" alone counts): the
// WHATWG URL rule for "this host must be an IPv4 address".
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if isDigits(last, 10) {
		return true
	}
	if len(last) < 2 || last[0] != '0' || last[1] != 'x' {
		return false
	}
	return last == "0x" || isDigits(last[2:], 16)
}

// parseInetAton parses s the way inet_aton(3) does: one to four
// dot-separated parts, each decimal, octal (leading 0) or hex (0x, possibly
// with no digits, meaning 0); the last part fills the remaining bytes, so
// 127.1 is 127.0.0.1 and 2130706433 is 127.0.0.1. With decimal, every part
// must be plain decimal digits and leading zeros do not mean octal.
func parseInetAton(s string, decimal bool) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint32
	for i, part := range parts {
		n, ok := parsePart(part, decimal)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 0xff {
				return netip.Addr{}, false
			}
			v |= uint32(n) << (8 * (3 - i))
			continue
		}
		if rest := 4 - i; rest < 4 && n >= 1<<(8*rest) {
			return netip.Addr{}, false
		}
		v |= uint32(n)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parsePart parses one inet_aton part into at most 32 bits.
func parsePart(s string, decimal bool) (uint64, bool) {
	base := 10
	switch {
	case decimal:
	case len(s) >= 2 && s[0] == '0' && s[1] == 'x':
		base, s = 16, s[2:]
		if s == "" {
			return 0, true
		}
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if !isDigits(s, base) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

// isDigits reports whether s is non-empty and all digits of base (8, 10 or
// 16, lower-case hex).
func isDigits(s string, base int) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= '0' && c <= '9' && int(c-'0') < base || base == 16 && c >= 'a' && c <= 'f'
		if !ok {
			return false
		}
	}
	return true
}
