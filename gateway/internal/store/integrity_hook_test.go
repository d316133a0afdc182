package store

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

var t0ctx = context.Background()

// flushIntegrity brings the integrity record up to date at once, as the
// recorder's goroutine does within integrityInterval.
func flushIntegrity(t *testing.T, s *Store) {
	t.Helper()
	require.NoError(t, s.rec.flush(true))
}
