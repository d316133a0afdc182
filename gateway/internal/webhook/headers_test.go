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
