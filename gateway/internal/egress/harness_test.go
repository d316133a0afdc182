package egress_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// newPolicy builds a policy or fails the test.
func newPolicy(tb testing.TB, allowPrivate bool, cidrs ...string) *egress.Policy {
	tb.Helper()
	p, err := egress.NewPolicy(allowPrivate, cidrs)
	require.NoError(tb, err)
	return p
}

func addr(tb testing.TB, s string) netip.Addr {
	tb.Helper()
	a, err := netip.ParseAddr(s)
	require.NoError(tb, err)
	return a
}

// requireVerdict checks that err is nil when allowed and wraps ErrBlocked
// otherwise; what names the input in the failure message.
func requireVerdict(tb testing.TB, what string, allowed bool, err error) {
	tb.Helper()
	switch {
	case allowed && err != nil:
		tb.Fatalf("%s: want allowed, got %v", what, err)
	case !allowed && !errors.Is(err, egress.ErrBlocked):
		tb.Fatalf("%s: want an error wrapping ErrBlocked, got %v", what, err)
	}
}

// CheckURL verdicts.
const (
	allowed = iota
	blocked
	invalid
)

func requireURLVerdict(tb testing.TB, raw string, want int, err error) {
	tb.Helper()
	switch want {
	case allowed:
		if err != nil {
			tb.Fatalf("%s: want allowed, got %v", raw, err)
		}
	case blocked:
		if !errors.Is(err, egress.ErrBlocked) {
			tb.Fatalf("%s: want an error wrapping ErrBlocked, got %v", raw, err)
		}
	case invalid:
		if !errors.Is(err, egress.ErrInvalidURL) {
			tb.Fatalf("%s: want an error wrapping ErrInvalidURL, got %v", raw, err)
		}
	}
}
