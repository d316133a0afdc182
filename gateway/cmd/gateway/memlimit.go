package main

import (
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/eventgw/gateway/gateway/config"
)

// applyMemoryLimit sets the Go runtime's soft memory limit to
// server.memory_limit, unless GOMEMLIMIT is set (not empty) in the
// environment, which the runtime has applied already and which wins. A
// limit of 0 ("off") removes any limit.
//
// The soft limit makes the garbage collector run more often as the heap
// nears it, instead of letting the heap double (GOGC=100) under a burst of
// large events; BENCHMARKS.md has its throughput cost.
func applyMemoryLimit(limit config.Size, getenv func(string) string, logger *slog.Logger) {
	if v := getenv("GOMEMLIMIT"); v != "" {
		logger.Info("memory limit from GOMEMLIMIT; server.memory_limit ignored", "GOMEMLIMIT", v)
		return
	}
	n := int64(limit)
	if n == 0 {
		n = math.MaxInt64
	}
	debug.SetMemoryLimit(n)
}
