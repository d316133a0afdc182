package store

import (
	"context"
	"errors"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// refuseAll is a SpaceGuard on a full disk.
type refuseAll struct{ asked int64 }

func (r *refuseAll) Admit(n int64) error {
	r.asked += n
	return errors.New("disk full")
}

// TestAppend_noSpace: a refused append fails with ErrNoSpace and stores
// nothing.
func TestAppend_noSpace(t *testing.T) {
	guard := &refuseAll{}
	s, _ := openTemp(t, Options{Space: guard})
	_, err := s.Append(context.Background(), []Draft{{Type: "a.b", Data: []byte(`{"n":1}`)}})
	require.True(t, errors.Is(err, ErrNoSpace), "Append on a full disk: %v", err)
	require.True(t, guard.asked > 0, "the guard was not asked")
	last, err := s.lastSeq()
	require.NoError(t, err)
	require.True(t, last.IsZero(), "an event was stored")
}

// TestSpaceNeeded_sameAroundOpen: the reserve counted before Open (for the
// start check) is the one counted after it, less what Open wrote.
func TestSpaceNeeded_sameAroundOpen(t *testing.T) {
	dir := t.TempDir()
	before, err := SpaceNeeded(dir)
	require.NoError(t, err)
	s := openAt(t, dir, Options{})
	after, err := SpaceNeeded(dir)
	require.NoError(t, err)
	require.True(t, after <= before && after > before-(1<<20), "before Open %d, after %d", before, after)
	bo := badgerOptions(Options{Path: dir})
	require.True(t, before >= 3*bo.MemTableSize+2*bo.ValueLogFileSize, "the reserve %d misses a WAL or a value log", before)
	require.NoError(t, s.Close())
}
