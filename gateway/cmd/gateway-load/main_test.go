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
)

// TestRun drives the bare handler briefly in each mode. It checks that
// requests were counted and none failed; it asserts nothing about speed.
func TestRun(t *testing.T) {
	srv := httptest.NewServer(bareHandler())
	defer srv.Close()
	for _, mode := range []string{"single", "batch"} {
		t.Run(mode, func(t *testing.T) {
			c, err := parseFlags([]string{"-url", srv.URL, "-c", "4", "-d", "500ms", "-warmup", "100ms", "-mode", mode, "-batch", "10"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			res, err := run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 {
				t.Fatalf("no requests counted: %+v", res)
			}
			if res.Errors != 0 || res.Non2xx != 0 {
				t.Fatalf("errors %d, non-2xx %d: %v", res.Errors, res.Non2xx, res.Samples)
			}
			if want := res.Requests * int64(res.EventsPerReq); res.Events != want {
				t.Fatalf("events = %d, want %d", res.Events, want)
			}
			var out bytes.Buffer
			res.writeText(&out)
			if !strings.Contains(out.String(), "requests/s") {
				t.Fatalf("report lacks requests/s:\n%s", out.String())
			}
		})
	}
}

// TestRun_non2xx counts answers from a server that refuses everything.
func TestRun_non2xx(t *testing.T) {
	srv := httptest.NewServer(nil) // DefaultServeMux: 404 for every path
	defer srv.Close()
	res, err := run(context.Background(), config{URL: srv.URL, Conc: 2, Duration: 200 * time.Millisecond, Mode: "single", Batch: 1, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 0 || res.Non2xx == 0 || len(res.Samples) == 0 || !strings.HasPrefix(res.Samples[0], "404") {
		t.Fatalf("want only 404s with samples, got %+v", res)
	}
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
	if err := json.Unmarshal([]byte(first), &ev); err != nil {
		t.Fatalf("single body is not JSON: %v\n%s", err, first)
	}
	if ev.Type != "load.test" || len(ev.Data) < 180 || len(ev.Data) > 220 {
		t.Fatalf("type %q, %d data bytes; want load.test, about 200", ev.Type, len(ev.Data))
	}
	if second := string(w.body("single", 1, strings.Repeat("x", 136))); second == first {
		t.Fatal("two bodies are identical")
	}
	var batch struct {
		Events []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(w.body("batch", 3, "x"), &batch); err != nil || len(batch.Events) != 3 {
		t.Fatalf("batch body: %v, %d events", err, len(batch.Events))
	}
}

func TestParseFlags_invalid(t *testing.T) {
	_, err := parseFlags([]string{"-c", "0", "-mode", "stream"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-c") || !strings.Contains(err.Error(), "-mode") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}
