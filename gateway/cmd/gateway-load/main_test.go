package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// testWindow is the measured window of these runs. A busy machine can stall
// every worker for a fraction of a second, and a window that short would
// then count nothing; two seconds leaves a wide margin.
const testWindow = 2 * time.Second

// TestRun drives the bare handler briefly in each mode. It checks that
// requests were counted and none failed; it asserts nothing about speed.
func TestRun(t *testing.T) {
	srv := httptest.NewServer(bareHandler())
	defer srv.Close()
	for _, mode := range []string{"single", "batch"} {
		t.Run(mode, func(t *testing.T) {
			c, err := parseFlags([]string{"-url", srv.URL, "-c", "4", "-d", testWindow.String(), "-warmup", "100ms", "-mode", mode, "-batch", "10"}, io.Discard)
			require.NoError(t, err)
			res, err := run(context.Background(), c)
			require.NoError(t, err)
			require.True(t, res.Requests != 0, "no requests counted: %+v", res)
			require.True(t, res.Errors == 0 && res.Non2xx == 0, "errors %d, non-2xx %d: %v", res.Errors, res.Non2xx, res.Samples)
			require.Equal(t, res.Requests*int64(res.EventsPerReq), res.Events, "events")
			var out bytes.Buffer
			res.writeText(&out)
			require.Contains(t, out.String(), "requests/s", "the report")
		})
	}
}

// TestRun_non2xx counts answers from a server that refuses everything.
func TestRun_non2xx(t *testing.T) {
	srv := httptest.NewServer(nil) // DefaultServeMux: 404 for every path
	defer srv.Close()
	res, err := run(context.Background(), config{URL: srv.URL, Conc: 2, Duration: testWindow, Mode: "single", Batch: 1, Size: 100})
	require.NoError(t, err)
	require.True(t, res.Requests == 0 && res.Non2xx != 0 && len(res.Samples) != 0 && strings.HasPrefix(res.Samples[0], "404"), "want only 404s with samples, got %+v", res)
}

// TestWorker_body checks that generated bodies are the JSON the gateway
// expects, about the requested size, and never repeat.
func TestWorker_body(t *testing.T) {
	w := &worker{id: 7}
	first := string(w.body("single", 1, strings.Repeat("x", 136)))
	var ev struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(first), &ev), "single body %s", first)
	require.True(t, ev.Type == "load.test" && len(ev.Data) >= 180 && len(ev.Data) <= 220, "type %q, %d data bytes; want load.test, about 200", ev.Type, len(ev.Data))
	second := string(w.body("single", 1, strings.Repeat("x", 136)))
	require.True(t, second != first, "two bodies are identical")
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	require.NoError(t, json.Unmarshal(w.body("batch", 3, "x"), &batch), "batch body")
	require.Equal(t, 3, len(batch.Events), "events in the batch body")
}

func TestParseFlags_invalid(t *testing.T) {
	_, err := parseFlags([]string{"-c", "0", "-mode", "stream"}, io.Discard)
	require.Error(t, err)
	require.Contains(t, err.Error(), "-c")
	require.Contains(t, err.Error(), "-mode")
}
