package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// gatedAppender holds every Append until open is closed, as a slow disk
// would; entered receives one value per Append that started.
type gatedAppender struct {
	httpapi.Appender
	entered chan struct{}
	open    chan struct{}
}

func (g *gatedAppender) Append(ctx context.Context, drafts []store.Draft) ([]store.Appended, error) {
	g.entered <- struct{}{}
	<-g.open
	return g.Appender.Append(ctx, drafts)
}

// TestAPI_publishPendingBudget: while a commit is blocked, the bodies
// waiting for it count against ingest.max_pending_bytes; a request that
// does not fit is refused at once with 503, Retry-After: 1 and
// ingest_overloaded, with or without a Content-Length, and the budget is
// given back after the commit.
func TestAPI_publishPendingBudget(t *testing.T) {
	g := &gatedAppender{entered: make(chan struct{}, 8), open: make(chan struct{})}
	h := newHarness(t, func(c *harnessConfig) {
		c.pendingBytes = 100 << 10
		c.wrapAppender = func(a httpapi.Appender) httpapi.Appender { g.Appender = a; return g }
	})
	var once sync.Once
	openGate := func() { once.Do(func() { close(g.open) }) }
	t.Cleanup(openGate) // before the harness's cleanup, which waits for requests
	big := `{"type":"a.b","data":"` + strings.Repeat("x", 60<<10) + `"}`

	publish := func() <-chan response {
		ch := make(chan response, 1)
		go func() {
			r, err := h.send(http.MethodPost, "/v1/events", big, "Content-Type", "application/json")
			if err != nil {
				t.Error(err)
			}
			ch <- r
		}()
		return ch
	}
	first := publish()
	require.Receive(t, g.entered, "the first publish to reach the commit")

	// With a Content-Length: refused before the body is read.
	second := publish()
	var r response
	select {
	case r = <-second:
	case <-g.entered:
		t.Fatal("a second 60 KiB body reached the commit with 100 KiB of ingest.max_pending_bytes and 60 KiB pending; want 503 ingest_overloaded")
	}
	require.Equal(t, http.StatusServiceUnavailable, r.status, "body: %s", r.body)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	var e struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal(r.body, &e))
	require.Equal(t, "ingest_overloaded", e.Error.Code)
	require.Contains(t, e.Error.Message, "ingest.max_pending_bytes")

	// Chunked, without a Content-Length: refused as it grows past the
	// budget.
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events/batch", io.MultiReader(strings.NewReader(`{"events":[`+big+`]}`)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+keyBoth)
	req.Header.Set("Content-Type", "application/json")
	res, err := h.srv.Client().Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, "1", res.Header.Get("Retry-After"))

	// Gzipped: the budget counts the decompressed bytes, not the few
	// hundred compressed ones of the Content-Length.
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(big))
	require.NoError(t, zw.Close())
	req, err = http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events", bytes.NewReader(zipped.Bytes()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+keyBoth)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	gzipped := make(chan *http.Response, 1)
	go func() {
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			close(gzipped)
			return
		}
		_ = res.Body.Close()
		gzipped <- res
	}()
	select {
	case res = <-gzipped:
	case <-g.entered:
		t.Fatalf("a gzipped 60 KiB body (%d bytes compressed) reached the commit with 60 KiB of 100 KiB pending; want 503 ingest_overloaded", zipped.Len())
	}
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)

	openGate()
	require.Equal(t, http.StatusAccepted, require.Receive(t, first, "the first publish's answer").status)
	// The budget was given back: the same body fits again.
	require.Equal(t, http.StatusAccepted, h.postJSON("/v1/events", big).status)
}

// unsyncedAppender fails every Append as a store whose sync failed does.
type unsyncedAppender struct{ httpapi.Appender }

func (unsyncedAppender) Append(context.Context, []store.Draft) ([]store.Appended, error) {
	return nil, fmt.Errorf("%w: disk on fire", store.ErrNotSynced)
}

// TestAPI_publishNotSynced: a commit the disk did not confirm is not
// acknowledged: 503 with Retry-After, and the advice to retry with the same
// idempotency key.
func TestAPI_publishNotSynced(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) {
		c.wrapAppender = func(a httpapi.Appender) httpapi.Appender { return unsyncedAppender{a} }
	})
	for _, path := range []string{"/v1/events", "/v1/events/batch"} {
		body := `{"type":"a.b","data":{}}`
		if path == "/v1/events/batch" {
			body = `{"events":[` + body + `]}`
		}
		r := h.postJSON(path, body)
		requireAPIError(t, r, http.StatusServiceUnavailable, "unavailable", "")
		require.Equal(t, "1", r.header.Get("Retry-After"))
		require.Contains(t, string(r.body), "same idempotency key")
	}
}
