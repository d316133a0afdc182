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

type fakeHook struct{ url, secret string }

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/webhooks":
		var spec struct{ URL, Secret string }
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("wh_%d", len(f.hooks))
		f.hooks[id] = fakeHook{spec.URL, spec.Secret}
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
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
			f.wg.Go(func() { deliverSigned(h, id, body) })
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

func deliverSigned(h fakeHook, id string, body []byte) {
	sg, err := delivery.NewSigner(delivery.Key(h.secret))
	if err != nil {
		return
	}
	ts := time.Now()
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	delivery.SetHeaders(req.Header, id, ts, sg.Sign(id, ts, body))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func newFakeGateway(t *testing.T) string {
	f := &fakeGateway{hooks: make(map[string]fakeHook)}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { srv.Close(); f.wg.Wait() })
	return srv.URL
}

// TestRunDeliver runs -mode deliver briefly against the fake gateway, as
// fast as it can and at a fixed rate: every delivery arrives once, signed,
// and both the raw ceiling and the end-to-end run count something.
func TestRunDeliver(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"window", []string{"-fanout", "2", "-batch", "5", "-raw-c", "2"}},
		{"rate", []string{"-fanout", "1", "-batch", "1", "-rate", "200", "-raw-c", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-mode", "deliver", "-url", newFakeGateway(t), "-c", "2", "-d", testWindow.String(), "-warmup", "100ms", "-pid", strconv.Itoa(os.Getpid())}, tc.args...)
			c, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			res, err := runDeliver(context.Background(), c)
			require.NoError(t, err)
			require.True(t, res.Published > 0 && res.Deliveries > 0, "nothing published or delivered: %+v", res)
			require.Equal(t, res.Published*int64(c.Fanout), res.Expected, "expected deliveries")
			require.True(t, res.Missing == 0 && res.Duplicates == 0 && res.Rejected == 0 && res.PublishErrs == 0,
				"missing %d, duplicates %d, rejected %d, publish errors %d: %v", res.Missing, res.Duplicates, res.Rejected, res.PublishErrs, res.Samples)
			require.True(t, res.Samples == nil, "samples %v", res.Samples)
			require.True(t, res.latencyMS.Samples > 0, "no latency samples")
			if c.RawConc > 0 {
				require.True(t, res.Raw.Requests > 0 && res.Raw.Missing == 0 && res.Raw.Rejected == 0 && res.Raw.Errors == 0, "raw ceiling: %+v", res.Raw)
			}
			var out bytes.Buffer
			res.writeText(&out)
			for _, want := range []string{"deliveries/s", "latency ms    p50", "missing 0", "memory"} {
				require.Contains(t, out.String(), want, "the report")
			}
		})
	}
}

// TestRunPending runs -mode pending against the fake gateway.
func TestRunPending(t *testing.T) {
	c, err := parseFlags([]string{"-mode", "pending", "-url", newFakeGateway(t), "-n", "50", "-batch", "20", "-c", "2",
		"-slow", "1ms", "-settle", "0s", "-pid", strconv.Itoa(os.Getpid())}, io.Discard)
	require.NoError(t, err)
	res, err := runPending(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, int64(50), res.Events)
	require.True(t, res.Created != nil && res.Created.VmRSS > 0, "no memory reading: %+v", res)
	var out bytes.Buffer
	res.writeText(&out)
	require.Contains(t, out.String(), "memory created VmRSS")
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
