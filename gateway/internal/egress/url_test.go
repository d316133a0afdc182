package egress_test

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestPolicy_CheckURL(t *testing.T) {
	deflt := newPolicy(t, false)
	loop := newPolicy(t, false, "127.0.0.0/8")
	open := newPolicy(t, true)
	for _, tc := range []struct {
		url               string
		deflt, loop, open int
		reason            string // a fragment of the default policy's error
	}{
		// Dotted quads and bracketed IPv6.
		{url: "http://127.0.0.1/", deflt: blocked, reason: "127.0.0.1 is a loopback address"},
		{url: "https://127.0.0.1:8443/hook?x=1", deflt: blocked},
		{url: "http://10.0.0.5/", deflt: blocked, loop: blocked, reason: "private address (RFC 1918)"},
		{url: "http://169.254.169.254/latest/meta-data/", deflt: blocked, loop: blocked, reason: "169.254.169.254 is a link-local address"},
		{url: "http://[::1]/", deflt: blocked, loop: blocked},
		{url: "http://[::1]:8080/hook", deflt: blocked, loop: blocked},
		{url: "http://[::ffff:127.0.0.1]/", deflt: blocked, reason: "IPv4-mapped form of 127.0.0.1"},
		{url: "http://[::ffff:7f00:1]/", deflt: blocked},
		{url: "http://[0:0:0:0:0:ffff:127.0.0.1]/", deflt: blocked},
		{url: "http://[::ffff:a9fe:a9fe]/", deflt: blocked, loop: blocked},
		{url: "http://[64:ff9b::a00:1]/", deflt: blocked, loop: blocked},
		{url: "http://[2002:a00:1::]/", deflt: blocked, loop: blocked},
		{url: "http://[fe80::1%25eth0]/", deflt: blocked, loop: blocked},
		{url: "http://[FE80::1]/", deflt: blocked, loop: blocked},
		{url: "http://[fd00::1]/", deflt: blocked, loop: blocked},
		{url: "http://0.0.0.0/", deflt: blocked, loop: blocked},
		{url: "http://127.0.0.1./", deflt: blocked, reason: "a form of 127.0.0.1"},
		// inet_aton forms.
		{url: "http://2130706433/", deflt: blocked, reason: "2130706433 is a numeric form of 127.0.0.1"},
		{url: "http://0x7f.1/", deflt: blocked, reason: "0x7f.1 is a numeric form of 127.0.0.1"},
		{url: "http://0X7F.1/", deflt: blocked},
		{url: "http://0x7f000001/", deflt: blocked},
		{url: "http://0x7f.0x0.0x0.0x1/", deflt: blocked},
		{url: "http://017700000001/", deflt: blocked},
		{url: "http://0177.0.0.1/", deflt: blocked},
		{url: "http://127.1/", deflt: blocked},
		{url: "http://127.0.1/", deflt: blocked},
		{url: "http://127.256/", deflt: blocked, reason: "numeric form of 127.0.1.0"},
		{url: "http://127.000.000.001/", deflt: blocked},
		{url: "http://0/", deflt: blocked, loop: blocked},
		{url: "http://0x/", deflt: blocked, loop: blocked},
		{url: "http://0xa9.0xfe.0xa9.0xfe/", deflt: blocked, loop: blocked, reason: "numeric form of 169.254.169.254"},
		{url: "http://2852039166/", deflt: blocked, loop: blocked},
		{url: "http://167772161:80/", deflt: blocked, loop: blocked, reason: "numeric form of 10.0.0.1"},
		// Leading zeros: octal by inet_aton (8.0.0.1, public), decimal
		// elsewhere (10.0.0.1): both readings are checked.
		{url: "http://010.0.0.1/", deflt: blocked, loop: blocked, reason: "010.0.0.1 is 10.0.0.1 when read as decimal"},
		{url: "http://0127.0.0.1/", deflt: blocked, reason: "127.0.0.1 when read as decimal"},
		// Fullwidth digits and dots, which IDNA mapping turns into ASCII.
		{url: "http://１２７.０.０.１/", deflt: blocked, reason: "a form of 127.0.0.1"},
		{url: "http://127。0。0。1/", deflt: blocked},
		{url: "http://０ｘ７ｆ.１/", deflt: blocked},
		// localhost.
		{url: "http://localhost/", deflt: blocked, reason: "localhost is a loopback name (RFC 6761); set delivery.allow_private or add 127.0.0.0/8 to delivery.allowed_cidrs"},
		{url: "http://LOCALHOST:8080/hook", deflt: blocked},
		{url: "http://localhost./", deflt: blocked},
		{url: "http://api.localhost/", deflt: blocked},
		{url: "http://a.b.localhost:9000/", deflt: blocked},
		// Public literals and names: allowed; names are not resolved.
		{url: "https://example.test/hook"},
		{url: "https://hooks.example.com:8443/x"},
		{url: "http://8.8.8.8/"},
		{url: "http://134744072/"},
		{url: "http://0x8.0x8.0x8.0x8/"},
		{url: "http://010.0.0.010/", deflt: blocked, loop: blocked},
		{url: "http://[2001:4860:4860::8888]/"},
		{url: "http://[::ffff:8.8.8.8]/"},
		{url: "http://[64:ff9b::808:808]/"},
		{url: "http://localhost.example.com/"},
		{url: "http://mylocalhost/"},
		{url: "http://127.0.0.1.nip.io/"},
		{url: "http://1.2.3.4x/"},
		// Hosts that end in a number but are no IPv4 address.
		{url: "http://1.2.3.4.5/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://4294967296/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://256.0.0.1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://127.16777216/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://0x7g.1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://08.0.0.1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://example.123/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://1..1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://0x100000000/", deflt: invalid, loop: invalid, open: invalid},
		// Not URLs with a host.
		{url: "", deflt: invalid, loop: invalid, open: invalid},
		{url: "/relative", deflt: invalid, loop: invalid, open: invalid},
		{url: "localhost:8080", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://[::1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://%31%32%37.0.0.1/", deflt: invalid, loop: invalid, open: invalid},
		{url: "http://exa mple.com/", deflt: invalid, loop: invalid, open: invalid},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := deflt.CheckURL(tc.url)
			requireURLVerdict(t, "default "+tc.url, tc.deflt, err)
			if tc.reason != "" {
				require.Contains(t, err.Error(), tc.reason)
			}
			requireURLVerdict(t, "127.0.0.0/8 "+tc.url, tc.loop, loop.CheckURL(tc.url))
			requireURLVerdict(t, "allow_private "+tc.url, tc.open, open.CheckURL(tc.url))
		})
	}
}

func TestPolicy_CheckURL_localhostOpenedByIPv6Loopback(t *testing.T) {
	p := newPolicy(t, false, "::1/128")
	requireURLVerdict(t, "localhost", allowed, p.CheckURL("http://localhost/"))
	requireURLVerdict(t, "127.0.0.1", blocked, p.CheckURL("http://127.0.0.1/"))
}

// FuzzPolicy_CheckURL checks that CheckURL never panics, that it fails only
// with its two sentinels, and that it agrees with Check on literal hosts.
func FuzzPolicy_CheckURL(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1/", "http://[::ffff:127.0.0.1]:80/", "http://2130706433/", "http://0x7f.1/",
		"http://localhost/", "https://example.test/hook", "http://１２７.０.０.１/", "http://1.2.3.4.5/",
		"http://[fe80::1%25eth0]/", "http://010.0.0.1/", "http://0x/", "", ":", "http://[", "http://a.0x",
	} {
		f.Add(s)
	}
	deflt := newPolicy(f, false)
	open := newPolicy(f, true)
	f.Fuzz(func(t *testing.T, raw string) {
		err := deflt.CheckURL(raw)
		if err != nil && !errors.Is(err, egress.ErrBlocked) && !errors.Is(err, egress.ErrInvalidURL) {
			t.Fatalf("%q: error wraps neither sentinel: %v", raw, err)
		}
		if err := open.CheckURL(raw); errors.Is(err, egress.ErrBlocked) {
			t.Fatalf("%q: blocked with allow_private: %v", raw, err)
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			return
		}
		if ip, aerr := netip.ParseAddr(u.Hostname()); aerr == nil && (err == nil) != (deflt.Check(ip) == nil) {
			t.Fatalf("%q: CheckURL says %v, Check says %v", raw, err, deflt.Check(ip))
		}
	})
}
