package egress_test

import (
	"errors"
	"net/netip"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestNewPolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cidrs []string
		bad   string // "" = no error; else the CIDR the error must name
	}{
		{name: "none"},
		{name: "v4 and v6", cidrs: []string{"127.0.0.0/8", "fd00::/8"}},
		{name: "unmasked", cidrs: []string{"10.1.2.3/8"}},
		{name: "bare address", cidrs: []string{"127.0.0.0/8", "10.0.0.1"}, bad: `"10.0.0.1"`},
		{name: "bad bits", cidrs: []string{"10.0.0.0/33"}, bad: `"10.0.0.0/33"`},
		{name: "garbage", cidrs: []string{"localhost"}, bad: `allowed_cidrs[0]: "localhost"`},
		{name: "empty", cidrs: []string{""}, bad: `""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := egress.NewPolicy(false, tc.cidrs)
			if tc.bad == "" {
				require.NoError(t, err)
				require.True(t, p != nil, "want a policy")
				return
			}
			if err == nil {
				t.Fatalf("want an error naming %s", tc.bad)
			}
			require.Contains(t, err.Error(), tc.bad)
			require.Contains(t, err.Error(), "egress: ")
		})
	}
}

// teredo builds the Teredo address of client v4 (server 65.54.227.120,
// port 40000), as RFC 4380 lays it out.
func teredo(tb testing.TB, client string) netip.Addr {
	tb.Helper()
	c := addr(tb, client).As4()
	b := [16]byte{0x20, 0x01, 0, 0, 65, 54, 227, 120, 0x80, 0, 0x63, 0xbf, ^c[0], ^c[1], ^c[2], ^c[3]}
	return netip.AddrFrom16(b)
}

func TestPolicy_Check_default(t *testing.T) {
	p := newPolicy(t, false)
	for _, tc := range []struct {
		ip      string
		allowed bool
		reason  string // a fragment of the error, when blocked
	}{
		// 0.0.0.0/8
		{"0.0.0.0", false, "this network"},
		{"0.255.255.255", false, "this network"},
		{"1.0.0.0", true, ""},
		// 10.0.0.0/8
		{"10.0.0.5", false, "private address (RFC 1918)"},
		{"10.255.255.255", false, "RFC 1918"},
		{"9.255.255.255", true, ""},
		{"11.0.0.0", true, ""},
		// 100.64.0.0/10
		{"100.64.0.1", false, "carrier-grade NAT"},
		{"100.127.255.255", false, "carrier-grade NAT"},
		{"100.63.255.255", true, ""},
		{"100.128.0.0", true, ""},
		// 127.0.0.0/8
		{"127.0.0.1", false, "loopback"},
		{"127.255.255.254", false, "loopback"},
		{"126.255.255.255", true, ""},
		{"128.0.0.0", true, ""},
		// 169.254.0.0/16
		{"169.254.169.254", false, "link-local"},
		{"169.254.0.1", false, "link-local"},
		{"169.253.255.255", true, ""},
		{"169.255.0.0", true, ""},
		// 172.16.0.0/12
		{"172.16.0.1", false, "RFC 1918"},
		{"172.31.255.255", false, "RFC 1918"},
		{"172.15.255.255", true, ""},
		{"172.32.0.0", true, ""},
		// 192.0.0.0/24, 192.0.2.0/24
		{"192.0.0.1", false, "IETF protocol assignment"},
		{"192.0.0.255", false, "IETF protocol assignment"},
		{"191.255.255.255", true, ""},
		{"192.0.1.0", true, ""},
		{"192.0.2.1", false, "documentation"},
		{"192.0.3.0", true, ""},
		// 192.88.99.0/24
		{"192.88.99.1", false, "6to4 relay"},
		{"192.88.98.255", true, ""},
		{"192.88.100.0", true, ""},
		// 192.168.0.0/16
		{"192.168.1.1", false, "RFC 1918"},
		{"192.167.255.255", true, ""},
		{"192.169.0.0", true, ""},
		// 198.18.0.0/15
		{"198.18.0.1", false, "benchmarking"},
		{"198.19.255.255", false, "benchmarking"},
		{"198.17.255.255", true, ""},
		{"198.20.0.0", true, ""},
		// 198.51.100.0/24, 203.0.113.0/24
		{"198.51.100.7", false, "documentation"},
		{"198.51.99.255", true, ""},
		{"198.51.101.0", true, ""},
		{"203.0.113.7", false, "documentation"},
		{"203.0.112.255", true, ""},
		{"203.0.114.0", true, ""},
		// 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255
		{"224.0.0.1", false, "multicast"},
		{"239.255.255.255", false, "multicast"},
		{"223.255.255.255", true, ""},
		{"240.0.0.1", false, "reserved"},
		{"255.255.255.254", false, "reserved"},
		{"255.255.255.255", false, "broadcast"},
		// Public IPv4.
		{"8.8.8.8", true, ""},
		{"1.1.1.1", true, ""},

		// IPv6.
		{"::", false, "unspecified"},
		{"::1", false, "loopback"},
		{"fc00::1", false, "unique-local"},
		{"fd12:3456::1", false, "unique-local"},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, "unique-local"},
		{"fe80::1", false, "link-local"},
		{"fe80::1%eth0", false, "link-local"},
		{"febf:ffff::1", false, "link-local"},
		{"fec0::1", false, "site-local"},
		{"ff02::1", false, "multicast"},
		{"ff0e::1", false, "multicast"},
		{"2001:db8::1", false, "documentation"},
		{"2001:db8:ffff::1", false, "documentation"},
		{"2001:db7:ffff:ffff::1", true, ""},
		{"2001:db9::1", true, ""},
		{"100::1", false, "discard-only"},
		{"100::ffff:ffff:ffff:ffff", false, "discard-only"},
		{"100:0:0:1::", false, "reserved"},
		{"2001:2::1", false, "benchmarking"},
		{"3fff::1", false, "documentation"},
		{"4000::1", false, "reserved"},
		{"1fff:ffff::1", false, "reserved"},
		{"1::1", false, "reserved"},
		// Public IPv6.
		{"2001:4860:4860::8888", true, ""},
		{"2606:4700:4700::1111", true, ""},
		{"2a00:1450:4001::1", true, ""},
		{"3ffe:ffff::1", true, ""},

		// Embedded private IPv4.
		{"::ffff:10.0.0.1", false, "IPv4-mapped form of 10.0.0.1, which is a private address"},
		{"::ffff:127.0.0.1", false, "IPv4-mapped form of 127.0.0.1"},
		{"::ffff:169.254.169.254", false, "link-local"},
		{"::ffff:0.0.0.0", false, "this network"},
		{"::10.0.0.1", false, "IPv4-compatible form of 10.0.0.1"},
		{"::127.0.0.1", false, "IPv4-compatible form of 127.0.0.1"},
		{"::0.0.0.2", false, "IPv4-compatible form of 0.0.0.2"},
		{"64:ff9b::a00:1", false, "NAT64 form (64:ff9b::/96) of 10.0.0.1"},
		{"64:ff9b::127.0.0.1", false, "NAT64"},
		{"64:ff9b::a9fe:a9fe", false, "NAT64 form (64:ff9b::/96) of 169.254.169.254"},
		{"64:ff9b:1::a00:1", false, "local-use NAT64 form (64:ff9b:1::/48) of 10.0.0.1"},
		{"64:ff9b:1:ffff::a00:1", false, "local-use NAT64"},
		{"2002:a00:1::", false, "6to4 form of 10.0.0.1"},
		{"2002:7f00:1::1", false, "6to4 form of 127.0.0.1"},
		{teredo(t, "10.0.0.1").String(), false, "Teredo form of 10.0.0.1"},
		{teredo(t, "192.168.0.1").String(), false, "Teredo form of 192.168.0.1"},
		// Embedded public IPv4.
		{"::ffff:8.8.8.8", true, ""},
		{"::8.8.8.8", true, ""},
		{"64:ff9b::808:808", true, ""},
		{"64:ff9b:1::808:808", true, ""},
		{"2002:808:808::", true, ""},
		{"2002:808:808:1::1", true, ""},
		{teredo(t, "8.8.8.8").String(), true, ""},
		// Next to the embedding ranges.
		{"64:ff9b::1:0:0:1", false, "reserved"},
		{"2003::1", true, ""},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			err := p.Check(addr(t, tc.ip))
			requireVerdict(t, tc.ip, tc.allowed, err)
			if tc.allowed {
				return
			}
			var be *egress.BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("want a *BlockedError, got %T", err)
			}
			require.Equal(t, addr(t, tc.ip).String(), be.Target)
			require.True(t, be.Range.Contains(be.Addr), "range %s does not hold %s", be.Range, be.Addr)
			require.Contains(t, err.Error(), tc.reason)
			require.Contains(t, err.Error(), "; set delivery.allow_private or add it to delivery.allowed_cidrs")
		})
	}
}

func TestPolicy_Check_message(t *testing.T) {
	p := newPolicy(t, false)
	for _, tc := range []struct{ ip, want string }{
		{"10.0.0.5", "egress: 10.0.0.5 is a private address (RFC 1918); set delivery.allow_private or add it to delivery.allowed_cidrs"},
		{"::ffff:10.0.0.5", "egress: ::ffff:10.0.0.5 is an IPv4-mapped form of 10.0.0.5, which is a private address (RFC 1918); set delivery.allow_private or add it to delivery.allowed_cidrs"},
		{"169.254.169.254", "egress: 169.254.169.254 is a link-local address (169.254.0.0/16, includes the cloud metadata service 169.254.169.254); set delivery.allow_private or add it to delivery.allowed_cidrs"},
	} {
		require.Equal(t, tc.want, p.Check(addr(t, tc.ip)).Error())
	}
}

func TestPolicy_Check_invalidAddr(t *testing.T) {
	for _, p := range []*egress.Policy{newPolicy(t, false), newPolicy(t, true), newPolicy(t, false, "0.0.0.0/0", "::/0")} {
		require.ErrorIs(t, p.Check(netip.Addr{}), egress.ErrBlocked)
	}
}

func TestPolicy_Check_allowedCIDRs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cidrs   []string
		allowed []string
		blocked []string
	}{
		{
			name:    "loopback v4",
			cidrs:   []string{"127.0.0.0/8"},
			allowed: []string{"127.0.0.1", "127.1.2.3", "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", teredo(t, "127.0.0.1").String(), "8.8.8.8"},
			blocked: []string{"::1", "10.0.0.1", "::ffff:10.0.0.1", "169.254.169.254"},
		},
		{
			name:    "loopback v6",
			cidrs:   []string{"::1/128"},
			allowed: []string{"::1"},
			blocked: []string{"127.0.0.1", "::2"},
		},
		{
			name:    "mapped range means its IPv4 range",
			cidrs:   []string{"::ffff:10.0.0.0/104"},
			allowed: []string{"10.0.0.1", "10.255.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1"},
			blocked: []string{"172.16.0.1", "192.168.0.1"},
		},
		{
			name:    "narrow host range",
			cidrs:   []string{"169.254.169.254/32"},
			allowed: []string{"169.254.169.254"},
			blocked: []string{"169.254.169.253", "169.254.0.1"},
		},
		{
			name:    "unique local",
			cidrs:   []string{"fd00::/8"},
			allowed: []string{"fd00::1", "fdff::1", "fd00::1%eth0"},
			blocked: []string{"fc00::1", "fe80::1"},
		},
		{
			name:    "the whole NAT64 prefix",
			cidrs:   []string{"64:ff9b::/96"},
			allowed: []string{"64:ff9b::a00:1", "64:ff9b::7f00:1"},
			blocked: []string{"10.0.0.1", "::ffff:10.0.0.1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPolicy(t, false, tc.cidrs...)
			for _, ip := range tc.allowed {
				requireVerdict(t, ip, true, p.Check(addr(t, ip)))
			}
			for _, ip := range tc.blocked {
				requireVerdict(t, ip, false, p.Check(addr(t, ip)))
			}
		})
	}
}

func TestPolicy_Check_allowPrivate(t *testing.T) {
	p := newPolicy(t, true)
	for _, ip := range []string{"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "fe80::1%eth0", "fc00::1", "ff02::1", "0.0.0.0", "::", "::ffff:10.0.0.1", "64:ff9b::a00:1", "8.8.8.8"} {
		requireVerdict(t, ip, true, p.Check(addr(t, ip)))
	}
}

// The zero Policy is the default policy.
func TestPolicy_Check_zeroValue(t *testing.T) {
	var p egress.Policy
	requireVerdict(t, "127.0.0.1", false, p.Check(addr(t, "127.0.0.1")))
	requireVerdict(t, "::ffff:10.0.0.1", false, p.Check(addr(t, "::ffff:10.0.0.1")))
	requireVerdict(t, "8.8.8.8", true, p.Check(addr(t, "8.8.8.8")))
}

// One policy, many goroutines; run with -race.
func TestPolicy_concurrent(t *testing.T) {
	p := newPolicy(t, false, "127.0.0.0/8")
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				ip := netip.AddrFrom4([4]byte{byte(g * 16), byte(i), 0, 1})
				_ = p.Check(ip)
				_ = p.Check(netip.AddrFrom16(ip.As16()))
				_ = p.CheckURL("http://" + ip.String() + "/hook")
			}
		})
	}
	wg.Wait()
}

// embeddings returns the IPv6 forms that embed v4 and must share its
// verdict.
func embeddings(v4 netip.Addr) []netip.Addr {
	c := v4.As4()
	mk := func(b [16]byte) netip.Addr { return netip.AddrFrom16(b) }
	return []netip.Addr{
		netip.AddrFrom16(v4.As16()), // ::ffff:a.b.c.d
		mk([16]byte{0x00, 0x64, 0xff, 0x9b, 12: c[0], 13: c[1], 14: c[2], 15: c[3]}),
		mk([16]byte{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, 12: c[0], 13: c[1], 14: c[2], 15: c[3]}),
		mk([16]byte{0x20, 0x02, c[0], c[1], c[2], c[3], 15: 1}),
		mk([16]byte{0x20, 0x01, 0, 0, 8, 8, 4, 4, 12: ^c[0], 13: ^c[1], 14: ^c[2], 15: ^c[3]}),
	}
}

// FuzzPolicy_Check checks that Check never panics and that every embedding
// of an IPv4 address gets that address's verdict.
func FuzzPolicy_Check(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "127.0.0.1", "8.8.8.8", "169.254.169.254", "0.0.0.0", "255.255.255.255", "100.64.0.0"} {
		a := netip.MustParseAddr(s).As4()
		f.Add(a[:], false)
	}
	f.Add([]byte{0xfe, 0x80, 15: 1}, false)
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, true)
	policies := []*egress.Policy{newPolicy(f, false), newPolicy(f, false, "127.0.0.0/8")}
	f.Fuzz(func(t *testing.T, b []byte, opened bool) {
		p := policies[0]
		if opened {
			p = policies[1]
		}
		ip, ok := netip.AddrFromSlice(b)
		if !ok {
			return
		}
		err := p.Check(ip)
		if err != nil && !errors.Is(err, egress.ErrBlocked) {
			t.Fatalf("%s: error does not wrap ErrBlocked: %v", ip, err)
		}
		if !ip.Is4() {
			return
		}
		want := err == nil
		for _, e := range embeddings(ip) {
			if got := p.Check(e) == nil; got != want {
				t.Fatalf("%s allowed=%v but its embedding %s allowed=%v", ip, want, e, got)
			}
		}
	})
}
