package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// appendLarge stores n events of 1 MiB each, one per transaction.
func appendLarge(t *testing.T, s *Store, n int) {
	t.Helper()
	for i := range n {
		data := `"` + strconv.Itoa(i) + strings.Repeat("x", 1<<20) + `"`
		_, err := s.Append(context.Background(), []Draft{{Type: "a.b", Data: []byte(data)}})
		require.NoError(t, err)
	}
}

// TestStore_ReadAfter_byteBound: a batch of large events stops at about
// 8 MiB of data whatever max says, and reading on returns every event once.
func TestStore_ReadAfter_byteBound(t *testing.T) {
	s, _ := openTemp(t, Options{})
	appendLarge(t, s, 20)
	var after event.Seq
	total := 0
	for {
		evs, err := s.ReadAfter(context.Background(), after, 1000)
		require.NoError(t, err)
		if len(evs) == 0 {
			break
		}
		size := 0
		for _, ev := range evs {
			size += len(ev.Data)
		}
		require.True(t, size <= 9<<20, "one ReadAfter returned %d events, %d bytes of data; want at most about 8 MiB", len(evs), size)
		total += len(evs)
		after = evs[len(evs)-1].Seq
	}
	require.Equal(t, 20, total)
}

// TestStore_Sweep_largeEvents: a sweep does not take a short ReadAfter
// batch for the end of the log.
func TestStore_Sweep_largeEvents(t *testing.T) {
	s, _ := openTemp(t, Options{})
	appendLarge(t, s, 20)
	res, err := s.Sweep(context.Background(), time.Now().Add(time.Hour), func(event.Seq) bool { return true })
	require.NoError(t, err)
	require.Equal(t, 20, res.Events)
}
