package webhook

import (
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestHeaderHint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "…"},
		{"ops", "…"},
		{"fifteen-chars-x", "…"},
		{"Bearer s3cr3t-token", "…oken"},
		{"sixteen-chars-xy", "…s-xy"},
		{"ünïcödé-välüe-ünïcödé", "…cödé"}, // whole runes, never half of one
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, HeaderHint(tc.in))
	}
}

func TestUnmaskHeaders(t *testing.T) {
	cur := map[string]string{"Authorization": "Bearer s3cr3t-token", "X-Team": "ops"}
	got, ps := UnmaskHeaders(map[string]string{"authorization": "…oken", "X-Team": "…", "X-New": "v"}, cur)
	require.Equal(t, 0, len(ps))
	require.Equal(t, "Bearer s3cr3t-token", got["authorization"])
	require.Equal(t, "ops", got["X-Team"])
	require.Equal(t, "v", got["X-New"])

	_, ps = UnmaskHeaders(map[string]string{"X-Team": "…oken", "X-Other": "…"}, cur)
	require.Equal(t, "headers.X-Other headers.X-Team", ps[0].Field+" "+ps[1].Field)
	_, ps = UnmaskHeaders(map[string]string{"X-Team": "…"}, nil)
	require.Equal(t, 1, len(ps))
}
