package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrBlocked is wrapped by every error that refuses a destination. Callers
// map it to 422 at registration and to a failed attempt at delivery.
var ErrBlocked = errors.New("egress: destination blocked")

// ErrInvalidURL is wrapped by CheckURL's errors for a URL it cannot judge:
// one that does not parse, has no host, or whose host looks like a numeric
// IPv4 address but is not a valid one (e.g. 1.2.3.4.5 or 08.0.0.1).
var ErrInvalidURL = errors.New("egress: invalid webhook url")

// BlockedError says why a destination was refused. It wraps ErrBlocked.
type BlockedError struct {
	// Target is what was checked, as the caller gave it: an address or a URL
	// host.
	Target string
	// Addr is the address found in a blocked range: Target itself, or the
	// IPv4 address embedded in or written by it.
	Addr netip.Addr
	// Range is the blocked range that holds Addr.
	Range netip.Prefix
	// Reason completes "<Target> is ...", e.g. "a private address (RFC 1918)".
	Reason string
}

func (e *BlockedError) Error() string {
	open := "add it to delivery.allowed_cidrs"
	if _, err := netip.ParseAddr(e.Target); err != nil {
		open = "add " + e.Range.String() + " to delivery.allowed_cidrs"
	}
	return "egress: " + e.Target + " is " + e.Reason + "; set delivery.allow_private or " + open
}

// Unwrap returns ErrBlocked.
func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Policy decides which addresses deliveries may connect to. Build one with
// NewPolicy; the zero Policy blocks every range in the table and opens none.
// A Policy is immutable and safe for concurrent use.
type Policy struct {
	allowPrivate bool
	allowed      []netip.Prefix
	dialer       *net.Dialer
}

// NewPolicy returns a policy that blocks the ranges in the table, except
// those in allowedCIDRs (delivery.allowed_cidrs). With allowPrivate
// (delivery.allow_private) nothing is blocked. A CIDR that does not parse is
// an error naming it.
func NewPolicy(allowPrivate bool, allowedCIDRs []string) (*Policy, error) {
	p := &Policy{allowPrivate: allowPrivate}
	for i, c := range allowedCIDRs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("egress: delivery.allowed_cidrs[%d]: %q is not a CIDR such as 127.0.0.0/8 or fd00::/8: %w", i, c, err)
		}
		p.allowed = append(p.allowed, normalize(pfx))
	}
	p.dialer = p.NewDialer(DefaultDialTimeout)
	return p, nil
}

// normalize masks pfx and turns an IPv4-mapped IPv6 range such as
// ::ffff:10.0.0.0/104 into its IPv4 range, so that it matches the IPv4
// addresses it names.
func normalize(pfx netip.Prefix) netip.Prefix {
	pfx = pfx.Masked()
	if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
	}
	return pfx
}

// Check returns nil if deliveries may connect to ip, and otherwise a
// *BlockedError, which wraps ErrBlocked, saying which range holds it and how
// to open it. An IPv6 zone is ignored. The invalid Addr is always refused.
func (p *Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: not a valid IP address", ErrBlocked)
	}
	if e := p.check(ip); e != nil {
		e.Target = ip.String()
		return e
	}
	return nil
}

// check is Check without Target: nil means allowed.
func (p *Policy) check(ip netip.Addr) *BlockedError {
	if p.allowPrivate {
		return nil
	}
	// netip.Prefix.Contains is false for any address with a zone, so
	// fe80::1%eth0 would slip through every range without this.
	ip = ip.WithZone("")
	if p.opened(ip) {
		return nil
	}
	r := lookup(ip)
	if r == nil {
		return nil
	}
	if r.embed == nil {
		return &BlockedError{Addr: ip, Range: r.prefix, Reason: r.reason}
	}
	v4 := r.embed(ip)
	if p.opened(v4) {
		return nil
	}
	inner := lookup(v4)
	if inner == nil {
		return nil
	}
	return &BlockedError{
		Addr:   v4,
		Range:  inner.prefix,
		Reason: fmt.Sprintf("%s of %s, which is %s", r.reason, v4, inner.reason),
	}
}

// opened reports whether an allowed CIDR holds ip.
func (p *Policy) opened(ip netip.Addr) bool {
	for _, pfx := range p.allowed {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

// lookup returns the first row of the range table that holds ip, or nil.
func lookup(ip netip.Addr) *rangeRule {
	for i := range rangeTable {
		if rangeTable[i].prefix.Contains(ip) {
			return &rangeTable[i]
		}
	}
	return nil
}
