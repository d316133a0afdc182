package config

import (
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestLoad_memoryLimit(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want Size
	}{
		{"", DefaultMemoryLimit},
		{"384MiB", 384 << 20},
		{"1GiB", 1 << 30},
		{"off", 0},
		{"0", 0},
		{"67108864", 64 << 20},
	} {
		var env []string
		if tc.env != "" {
			env = []string{"GATEWAY_SERVER__MEMORY_LIMIT=" + tc.env}
		}
		c, err := Load(LoadOptions{Env: env})
		require.NoError(t, err, "env %q", tc.env)
		require.Equal(t, tc.want, c.Server.MemoryLimit, "env %q", tc.env)
	}
	_, err := Load(LoadOptions{Env: []string{"GATEWAY_SERVER__MEMORY_LIMIT=lots-secret"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "server.memory_limit: "+wantSize)
	require.False(t, strings.Contains(err.Error(), "lots-secret"), "the error echoes the value: %v", err)
}
