package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestApplyMemoryLimit: serve applies server.memory_limit (384 MiB by
// default) as the runtime's soft limit, "off" removes it, and a set
// GOMEMLIMIT wins, while an empty one counts as unset.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	logger := slog.New(slog.DiscardHandler)
	env := func(v string) func(string) string { return func(string) string { return v } }

	applyMemoryLimit(config.Defaults().Server.MemoryLimit, env(""), logger)
	require.Equal(t, int64(384<<20), debug.SetMemoryLimit(-1))

	applyMemoryLimit(0, env(""), logger)
	require.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1))

	debug.SetMemoryLimit(200 << 20) // as the runtime does for GOMEMLIMIT=200MiB
	applyMemoryLimit(384<<20, env("200MiB"), logger)
	require.Equal(t, int64(200<<20), debug.SetMemoryLimit(-1))
}
