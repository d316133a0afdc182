package egress_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestPolicy_Control(t *testing.T) {
	p := newPolicy(t, false)
	for _, tc := range []struct {
		network, address string
		allowed          bool
	}{
		{"tcp", "8.8.8.8:443", true},
		{"tcp4", "1.1.1.1:80", true},
		{"tcp6", "[2001:4860:4860::8888]:443", true},
		{"udp", "8.8.8.8:53", true},
		{"tcp", "10.0.0.1:80", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp6", "[::1]:443", false},
		{"tcp6", "[fe80::1%eth0]:443", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"tcp6", "[64:ff9b::a00:1]:80", false},
		{"tcp", "localhost:80", false}, // Control only ever sees resolved addresses
		{"tcp", "garbage", false},
		{"unix", "/run/docker.sock", false},
		{"ip4:icmp", "10.0.0.1", false},
	} {
		t.Run(tc.network+" "+tc.address, func(t *testing.T) {
			requireVerdict(t, tc.address, tc.allowed, p.Control(tc.network, tc.address, nil))
		})
	}
}

// loopbackServer starts an HTTP server on 127.0.0.1 and counts the
// requests it gets.
func loopbackServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	if ap := netip.MustParseAddrPort(srv.Listener.Addr().String()); !ap.Addr().Is4() {
		t.Skipf("httptest listens on %s, not on IPv4 loopback", ap)
	}
	return srv, &hits
}

// clientFor is a delivery-style client whose connections all go through
// p.DialContext.
func clientFor(p *egress.Policy) *http.Client {
	return &http.Client{
		Transport: &http.Transport{DialContext: p.DialContext},
		Timeout:   20 * time.Second, // a hang guard, not an expectation
	}
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestPolicy_DialContext(t *testing.T) {
	srv, hits := loopbackServer(t)

	_, err := get(t, clientFor(newPolicy(t, false)), srv.URL)
	require.ErrorIs(t, err, egress.ErrBlocked)
	var be *egress.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("want a *BlockedError in the chain, got %T: %v", err, err)
	}
	require.Equal(t, "127.0.0.1", be.Addr.String())
	require.Equal(t, int64(0), hits.Load())

	body, err := get(t, clientFor(newPolicy(t, false, "127.0.0.0/8")), srv.URL)
	require.NoError(t, err)
	require.Equal(t, "ok", body)
	require.Equal(t, int64(1), hits.Load())

	body, err = get(t, clientFor(newPolicy(t, true)), srv.URL)
	require.NoError(t, err)
	require.Equal(t, "ok", body)
}

// A blocked address fails before any packet is sent: Control runs before
// connect, so even an unroutable address fails at once with ErrBlocked
// rather than with a timeout.
func TestPolicy_DialContext_noConnect(t *testing.T) {
	p := newPolicy(t, false)
	for _, addr := range []string{"169.254.169.254:80", "10.0.0.1:80", "[fd00::1]:443", "0.0.0.0:80"} {
		conn, err := p.DialContext(context.Background(), "tcp", addr)
		if conn != nil {
			conn.Close()
		}
		require.ErrorIs(t, err, egress.ErrBlocked)
	}
}

// DNS rebinding: registration cannot know what a name will resolve to, so
// CheckURL lets a name through; the dial-time check sees the resolved
// address. "localhost" stands in for a name that resolves to loopback at
// delivery time.
func TestPolicy_DialContext_resolvedName(t *testing.T) {
	srv, hits := loopbackServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	byName := "http://localhost:" + strconv.Itoa(port) + "/hook"

	p := newPolicy(t, false)
	require.NoError(t, p.CheckURL("https://example.test/hook"))
	if _, err := net.DefaultResolver.LookupHost(context.Background(), "localhost"); err != nil {
		t.Skipf("localhost does not resolve here: %v", err)
	}
	_, err := get(t, clientFor(p), byName)
	require.ErrorIs(t, err, egress.ErrBlocked)
	require.Equal(t, int64(0), hits.Load())

	// Opened, the same name connects: Control runs per resolved address, so
	// a blocked ::1 (if localhost has it) does not stop 127.0.0.1.
	body, err := get(t, clientFor(newPolicy(t, false, "127.0.0.0/8")), byName)
	require.NoError(t, err)
	require.Equal(t, "ok", body)
}

func TestPolicy_NewDialer(t *testing.T) {
	srv, _ := loopbackServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")

	// A hang guard, not an expectation: a loopback connect is immediate,
	// unless a busy machine stalls the dialing goroutine.
	const timeout = 20 * time.Second
	d := newPolicy(t, false).NewDialer(timeout)
	require.Equal(t, timeout, d.Timeout)
	_, err := d.DialContext(context.Background(), "tcp", addr)
	require.ErrorIs(t, err, egress.ErrBlocked)

	conn, err := newPolicy(t, false, "127.0.0.0/8").NewDialer(timeout).DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err)
	require.NoError(t, conn.Close())
}

// The zero Policy dials with the default policy.
func TestPolicy_DialContext_zeroValue(t *testing.T) {
	srv, _ := loopbackServer(t)
	var p egress.Policy
	_, err := p.DialContext(context.Background(), "tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.ErrorIs(t, err, egress.ErrBlocked)
}
