package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func gzipped(tb testing.TB, s string) string {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(tb, err)
	require.NoError(tb, zw.Close())
	return b.String()
}

// Content-Encoding: gzip bodies are decompressed, and
// server.max_body_bytes applies to the decompressed bytes (issue 10).
func TestAPI_gzipBody(t *testing.T) {
	h := newHarness(t)
	rc := h.publish(gzipped(t, `{"type":"order.created","data":{"n":1}}`), "Content-Encoding", "gzip")
	requireJSONEqual(t, `{"n":1}`, h.event(rc.ID).Data)

	r := h.postJSON("/v1/events/batch", gzipped(t, `{"events":[{"type":"a.b","data":1},{"type":"a.b","data":2}]}`), "Content-Encoding", "GZIP")
	requireStatus(t, r, http.StatusAccepted)
	require.Equal(t, 3, len(h.allEvents("")))

	// A body of exactly the limit once decompressed is fine.
	exact := func(size int) string {
		const head, tail = `{"type":"a.b","data":"`, `"}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	h.publish(gzipped(t, exact(maxBody)), "Content-Encoding", "gzip")
	require.Equal(t, 4, len(h.allEvents("")))
}

// A zip bomb, small on the wire and huge decompressed, is a 413 after
// max_body_bytes of output, not a gateway reading (or holding) all of it.
func TestAPI_gzipBomb(t *testing.T) {
	h := newHarness(t)
	bomb := gzipped(t, `{"type":"a.b","data":"`+strings.Repeat("0", 8<<20)+`"}`)
	require.True(t, len(bomb) < maxBody, "the bomb is %d bytes compressed", len(bomb))
	for _, path := range []string{"/v1/events", "/v1/events/batch"} {
		r := h.postJSON(path, bomb, "Content-Encoding", "gzip")
		requireAPIError(t, r, http.StatusRequestEntityTooLarge, "body_too_large", "")
		require.Contains(t, string(r.body), "server.max_body_bytes")
		require.Contains(t, string(r.body), "decompressed")
	}
	requireIDs(t, nil, h.allEvents(""))
}

// Any other Content-Encoding is a 415 naming what is accepted, and a body
// that claims gzip but is not is a 400.
func TestAPI_contentEncodingRefused(t *testing.T) {
	h := newHarness(t)
	body := `{"type":"a.b","data":1}`
	for _, enc := range []string{"br", "deflate", "compress", "zstd", "gzip, gzip", "gzip;q=1", "identity, gzip"} {
		r := h.postJSON("/v1/events", body, "Content-Encoding", enc)
		requireAPIError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "")
		require.Contains(t, string(r.body), "gzip")
		require.Equal(t, "gzip", r.header.Get("Accept-Encoding"))
	}
	r := h.postJSON("/v1/events", body, "Content-Encoding", "gzip")
	requireAPIError(t, r, http.StatusBadRequest, "invalid_encoding", "")
	g := gzipped(t, body)
	r = h.postJSON("/v1/events", g[:len(g)-6], "Content-Encoding", "gzip") // truncated
	requireAPIError(t, r, http.StatusBadRequest, "invalid_encoding", "")
	requireIDs(t, nil, h.allEvents(""))

	// identity is no encoding at all, and a request without a body has
	// nothing to decode.
	h.publish(body, "Content-Encoding", "identity")
	requireStatus(t, h.get("/v1/events", "Content-Encoding", "br"), http.StatusOK)
}
