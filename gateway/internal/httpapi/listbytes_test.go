package httpapi_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// TestAPI_listEventsByteCap: with 1 MiB events, a page asked for with
// limit=1000 stops at about 4 MiB of data and hands a cursor on; paging on
// lists every event once.
func TestAPI_listEventsByteCap(t *testing.T) {
	h := newHarness(t)
	const n, size = 12, 1 << 20
	for i := range n {
		data := `"` + strconv.Itoa(i) + strings.Repeat("x", size) + `"`
		_, err := h.st.Append(context.Background(), []store.Draft{{Type: "a.b", Data: []byte(data)}})
		require.NoError(t, err)
	}
	pages := getPages[eventJSON](t, h, "/v1/events?limit=1000", n)
	seen := make(map[string]bool)
	for i, p := range pages {
		bytes := 0
		for _, ev := range p {
			bytes += len(ev.Data)
			require.False(t, seen[ev.ID], "event %s listed twice", ev.ID)
			seen[ev.ID] = true
		}
		require.True(t, bytes <= 5<<20, "page %d holds %d events, %d bytes of data; want at most about 4 MiB", i, len(p), bytes)
	}
	require.Equal(t, n, len(seen))
}
