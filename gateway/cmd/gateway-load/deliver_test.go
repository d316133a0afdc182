package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// fakeGateway stands in for the gateway's API: it registers webhooks and,
// for every published event, POSTs a signed delivery to each of them, as
// the gateway does.
type fakeGateway struct {
	mu    sync.Mutex
	hooks map[string]fakeHook
	seq   int
	wg    sync.WaitGroup
}

type fakeHook struct {
	url, secret string
	types       []string
	retry       []string
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/webhooks":
		var spec struct {
			URL, Secret string
			EventTypes  []string `json:"event_types"`
			Retry       []string `json:"retry_schedule"`
		}
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("wh_%d", len(f.hooks))
		f.hooks[id] = fakeHook{url: spec.URL, secret: spec.Secret, types: spec.EventTypes, retry: spec.Retry}
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	case r.Method == http.MethodGet && r.URL.Path == "/readyz":
		fmt.Fprint(w, `{"status":"ready"}`)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/events"):
		f.publish(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/events/"):
		fmt.Fprint(w, `{"status":"dispatched"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/deliveries":
		fmt.Fprint(w, `{"data":[],"next_cursor":""}`)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeGateway) publish(w http.ResponseWriter, r *http.Request) {
	type ev struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	var evs []ev
	if r.URL.Path == "/v1/events/batch" {
		var b struct{ Events []ev }
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		evs = b.Events
	} else {
		var e ev
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		evs = []ev{e}
	}
	var ids []string
	f.mu.Lock()
	for _, e := range evs {
		f.seq++
		id := "evt_" + strconv.Itoa(f.seq)
		ids = append(ids, id)
		body := fmt.Appendf(nil, `{"id":%q,"type":%q,"timestamp":"2026-01-01T00:00:00Z","data":%s}`, id, e.Type, e.Data)
		for _, h := range f.hooks {
			if slices.Contains(h.types, e.Type) {
				f.wg.Go(func() { deliverSigned(h, id, body) })
			}
		}
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	if r.URL.Path == "/v1/events/batch" {
		page := struct {
			Data []map[string]string `json:"data"`
		}{}
		for _, id := range ids {
			page.Data = append(page.Data, map[string]string{"id": id})
		}
		_ = json.NewEncoder(w).Encode(page)
		return
	}
	fmt.Fprintf(w, `{"id":%q}`, ids[0])
}

// fakeClient keeps enough idle connections for a fan-out of 100.
var fakeClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

func deliverSigned(h fakeHook, id string, body []byte) {
	sg, err := delivery.NewSigner(delivery.Key(h.secret))
	if err != nil {
		return
	}
	ts := time.Now()
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	delivery.SetHeaders(req.Header, id, ts, sg.Sign(id, ts, body))
	if resp, err := fakeClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func newFakeGateway(t *testing.T) (string, *fakeGateway) {
	f := &fakeGateway{hooks: make(map[string]fakeHook)}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { srv.Close(); f.wg.Wait() })
	return srv.URL, f
}

// retrySchedules returns the retry schedules of the registered webhooks
// whose patterns include typ.
func (f *fakeGateway) retrySchedules(typ string) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, h := range f.hooks {
		if slices.Contains(h.types, typ) {
			out = append(out, h.retry)
		}
	}
	return out
}

// TestRunDeliver runs -mode deliver briefly against the fake gateway: as
// fast as a window allows, with no window, at a fixed rate, with decoys and
// with a fan-out of 100. Every delivery arrives once, signed, and the
// figures are counted.
func TestRunDeliver(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"window", []string{"-fanout", "2", "-batch", "5", "-raw-c", "2"}},
		{"no window", []string{"-fanout", "1", "-batch", "1", "-window", "0", "-raw-c", "0"}},
		{"rate", []string{"-fanout", "1", "-batch", "1", "-rate", "200", "-raw-c", "0"}},
		{"decoys", []string{"-fanout", "1", "-batch", "1", "-decoys", "50", "-retry-schedule", "1h", "-raw-c", "0"}},
		{"fan-out 100", []string{"-fanout", "100", "-batch", "1", "-window", "5", "-raw-c", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, fake := newFakeGateway(t)
			args := append([]string{"-mode", "deliver", "-url", url, "-c", "2", "-d", testWindow.String(), "-warmup", "100ms", "-pid", strconv.Itoa(os.Getpid())}, tc.args...)
			c, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			res, err := runDeliver(t.Context(), c)
			require.NoError(t, err)
			require.True(t, res.Published > 0 && res.Deliveries > 0, "nothing published or delivered: %+v", res)
			require.Equal(t, res.Published*int64(c.Fanout), res.Expected, "expected deliveries")
			require.True(t, res.Missing == 0 && res.Duplicates == 0 && res.Rejected == 0 && res.PublishErrs == 0,
				"missing %d, duplicates %d, rejected %d, publish errors %d: %v", res.Missing, res.Duplicates, res.Rejected, res.PublishErrs, res.Samples)
			require.True(t, res.Samples == nil, "samples %v", res.Samples)
			require.True(t, res.latencyMS.Samples > 0, "no latency samples")
			require.Equal(t, res.Expected, res.Unique, "deliveries counted end to end")
			require.True(t, res.E2EPerS > 0 && res.PublishS > 0, "end-to-end figures: %+v", res)
			require.True(t, res.CPUPerDeliveryMS > 0, "no CPU per delivery: %+v", res)
			if c.RawConc > 0 {
				require.True(t, res.Raw.Requests > 0 && res.Raw.Missing == 0 && res.Raw.Rejected == 0 && res.Raw.Errors == 0, "raw ceiling: %+v", res.Raw)
				require.True(t, res.E2ERatio > 0, "no end-to-end ratio")
			}
			if c.Rate > 0 {
				require.True(t, res.MaxPublishing > 0, "no publish in flight counted")
			}
			require.Equal(t, c.Decoys, res.Decoys, "decoys reported")
			hooks := fake.retrySchedules(eventType)
			require.Equal(t, c.Fanout, len(hooks), "webhooks taking %s (the decoys must not)", eventType)
			for _, r := range hooks {
				require.Equal(t, len(c.Retry), len(r), "retry_schedule sent")
			}
			var out bytes.Buffer
			res.writeText(&out)
			for _, want := range []string{"deliveries/s", "end-to-end/s", "latency ms    p50", "missing 0", "cpu/delivery", "memory"} {
				require.Contains(t, out.String(), want, "the report")
			}
		})
	}
}

// TestRunPending runs -mode pending against the fake gateway, with the
// slow receiver and with the hanging one.
func TestRunPending(t *testing.T) {
	for _, extra := range [][]string{{"-slow", "1ms"}, {"-hang", "127.0.0.1:0", "-retry-schedule", "1h"}} {
		t.Run(extra[0], func(t *testing.T) {
			url, _ := newFakeGateway(t)
			args := append([]string{"-mode", "pending", "-url", url, "-n", "50", "-batch", "20", "-c", "2",
				"-settle", "0s", "-pid", strconv.Itoa(os.Getpid())}, extra...)
			c, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			res, err := runPending(t.Context(), c)
			require.NoError(t, err)
			require.Equal(t, int64(50), res.Events)
			require.True(t, res.Created != nil && res.Created.VmRSS > 0, "no memory reading: %+v", res)
			var out bytes.Buffer
			res.writeText(&out)
			require.Contains(t, out.String(), "memory created VmRSS")
		})
	}
}

// TestSign checks that the receiver verifies with sdk/verify: a delivery
// signed with its secret is tallied, one signed with another is rejected.
func TestSign(t *testing.T) {
	secret := webhook.NewSecret()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rcv, err := startReceiver(ctx, "127.0.0.1:0", secret, 0)
	require.NoError(t, err)
	tl := newTally(1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	rcv.t.Store(tl)
	body := []byte(`{"id":"msg_1","type":"load.deliver","timestamp":"2026-01-01T00:00:00Z","data":{"n":3,"sent_ns":1}}`)
	deliverSigned(fakeHook{url: rcv.url + "/hook/0", secret: secret}, "msg_1", body)
	deliverSigned(fakeHook{url: rcv.url + "/hook/0", secret: webhook.NewSecret()}, "msg_1", body)
	missing, dups := tl.check([]bool{false, false, false, true})
	require.Equal(t, int64(0), missing, "missing")
	require.Equal(t, int64(0), dups, "duplicates")
	require.Equal(t, int64(1), tl.rejected, "rejected (the second secret)")
}
