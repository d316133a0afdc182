package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// DefaultDialTimeout bounds one connection attempt made by
// Policy.DialContext.
const DefaultDialTimeout = 10 * time.Second

// defaultKeepAlive matches net/http's DefaultTransport.
const defaultKeepAlive = 30 * time.Second

// Control is a net.Dialer Control function. The dialer calls it for every
// address it tries, after DNS resolution and before connect, with address
// as a literal "ip:port". It refuses blocked addresses with an error
// wrapping ErrBlocked, and anything that is not an IP network address (a
// Unix socket path, say), so the dialer never connects to them.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return fmt.Errorf("%w: network %q is not an IP network", ErrBlocked, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: dial address %q is not an ip:port", ErrBlocked, address)
	}
	return p.Check(ap.Addr())
}

// NewDialer returns a net.Dialer with the given connect timeout whose Control
// is p.Control. Callers may change its other fields before first use, but
// must not replace Control or set ControlContext, which takes precedence
// over Control and would switch the check off.
func (p *Policy) NewDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: defaultKeepAlive,
		Control:   p.Control,
	}
}

// DialContext connects like net.Dialer.DialContext with DefaultDialTimeout,
// checking every resolved address with p.Control first. Use it as
// http.Transport.DialContext; for another timeout use
// p.NewDialer(timeout).DialContext. A blocked destination fails with an
// error wrapping ErrBlocked.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := p.dialer
	if d == nil { // the zero Policy
		d = p.NewDialer(DefaultDialTimeout)
	}
	return d.DialContext(ctx, network, addr)
}
