package event

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestSeq_StringRoundTrip(t *testing.T) {
	g := NewIDGen(nil)
	for i := 0; i < 1000; i++ {
		s := g.Next()
		text := s.String()
		require.Equal(t, 26, len(text), "ULID length")
		back, err := ParseSeq(text)
		require.NoError(t, err, "ParseSeq(%q)", text)
		require.Equal(t, s, back, "round trip")
	}
	for _, bad := range []string{"", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FA!"} {
		if _, err := ParseSeq(bad); err == nil {
			t.Errorf("ParseSeq(%q) succeeded", bad)
		}
	}
}

// A known ULID from the ULID spec's README: its timestamp part decodes to
// 1469918176385 ms.
func TestParseSeq_knownULID(t *testing.T) {
	s, err := ParseSeq("01ARYZ6S41TSV4RRFFQ69G5FAV")
	require.NoError(t, err)
	require.Equal(t, int64(1469918176385), s.Time().UnixMilli(), "timestamp")
	require.Equal(t, "01ARYZ6S41TSV4RRFFQ69G5FAV", s.String(), "String")
}

func TestIDGen_monotonic(t *testing.T) {
	frozen := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clock := frozen
	g := NewIDGen(func() time.Time { return clock })
	prev := g.Next()
	require.Equal(t, true, prev.Time().Equal(frozen), "timestamp")
	for i := 0; i < 10000; i++ {
		if i == 5000 {
			clock = frozen.Add(-time.Hour) // the wall clock steps back
		}
		s := g.Next()
		require.True(t, bytes.Compare(s[:], prev[:]) > 0 && s.String() > prev.String(), "seq %d not increasing: %s after %s", i, s, prev)
		prev = s
	}
}

func TestIDGen_concurrent(t *testing.T) {
	g := NewIDGen(nil)
	const workers, each = 8, 2000
	var mu sync.Mutex
	seen := make(map[Seq]bool, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]Seq, each)
			for i := range local {
				local[i] = g.Next()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range local {
				if seen[s] {
					t.Errorf("duplicate seq %s", s)
				}
				seen[s] = true
			}
		}()
	}
	wg.Wait()
	require.Equal(t, workers*each, len(seen), "unique seqs")
}

func TestNewIDGenAfter(t *testing.T) {
	future := NewIDGen(func() time.Time { return time.Now().Add(time.Hour) }).Next()
	g := NewIDGenAfter(future, nil)
	s := g.Next()
	require.True(t, bytes.Compare(s[:], future[:]) > 0, "%s is not after %s", s, future)
}

func TestParseServerID(t *testing.T) {
	s := NewIDGen(nil).Next()
	got, ok := ParseServerID(IDPrefix + s.String())
	require.Equal(t, true, ok, "ok")
	require.Equal(t, s, got, "seq")
	for _, id := range []string{"order_1", "evt_", "evt_notaulid", s.String()} {
		if _, ok := ParseServerID(id); ok {
			t.Errorf("ParseServerID(%q) ok", id)
		}
	}
}

func TestSeqAt(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	s := SeqAt(at)
	require.Equal(t, true, s.Time().Equal(at.Truncate(time.Millisecond)), "time")
	g := NewIDGen(func() time.Time { return at })
	n := g.Next()
	require.True(t, bytes.Compare(s[:], n[:]) <= 0, "SeqAt must not sort after a Seq of the same millisecond")
}
