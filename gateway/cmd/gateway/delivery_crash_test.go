package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
	"github.com/eventgw/gateway/sdk/verify"
)

// deliveryLimit bounds the wait for every delivery to arrive after a
// restart. Like waitLimit it is a hang guard, not an expectation.
const deliveryLimit = 90 * time.Second

// TestServe_deliveryCrash is the delivery crash test of issue 3, with the
// real binary. One webhook, declared in the config, points at a port where
// nothing listens yet.
//
//  1. 2000 events are published; once deliveries are failing against the
//     absent receiver, the gateway gets SIGKILL. The receiver comes up and
//     the gateway restarts on the same data directory: every one of the
//     2000 events must arrive, signed.
//  2. 2000 more events are published to the live receiver, and the gateway
//     gets SIGKILL again while they are being delivered. After a restart,
//     every event of both rounds must have arrived.
//
// Delivery is at least once: the duplicates each round caused are logged,
// not asserted.
func TestServe_deliveryCrash(t *testing.T) {
	const perRound, batch = 2000, 100
	dir := t.TempDir()
	secret := webhook.NewSecret()
	addr := reservePort(t)
	cfg := writeDeliveryConfig(t, dir, "http://"+addr+"/hook", secret)

	// Round 1: the receiver is down.
	s := serve(t, cfg)
	round1 := publishEvents(t, s, "crash.one", perRound, batch)
	s.await(t, time.After(waitLimit), "record a failed delivery attempt", func() bool {
		var page struct{ Data []json.RawMessage }
		return s.getJSON(t, "/v1/deliveries?status=failed&limit=1", &page) == http.StatusOK && len(page.Data) > 0
	})
	failed, pending := s.countDeliveries(t, "failed"), s.countDeliveries(t, "pending")
	kill(t, s)
	t.Logf("round 1: SIGKILL with the receiver down (%d deliveries failed, %d pending)", failed, pending)

	rcv := startReceiver(t, addr, secret, 4*time.Millisecond)
	s = serve(t, cfg)
	rcv.awaitAll(t, s, round1)
	dup1 := rcv.duplicates(round1)
	t.Logf("round 1: all %d events delivered after the restart; %d duplicate deliveries", perRound, dup1)

	// Round 2: the receiver is up; kill while deliveries flow.
	round2 := publishEvents(t, s, "crash.two", perRound, batch)
	s.await(t, time.After(deliveryLimit), "deliver a quarter of round 2", func() bool {
		return rcv.seen(round2) >= perRound/4
	})
	kill(t, s)
	atKill := rcv.seen(round2)
	t.Logf("round 2: SIGKILL with %d of %d events received", atKill, perRound)

	s = serve(t, cfg)
	rcv.awaitAll(t, s, append(round1, round2...))
	dup2 := rcv.duplicates(round2)
	t.Logf("round 2: all %d events delivered after the restart; %d duplicate deliveries", perRound, dup2)
	require.Equal(t, dup1, rcv.duplicates(round1), "round 1 events delivered again in round 2")
	bad := rcv.rejected()
	require.True(t, len(bad) == 0, "%d requests failed verification, e.g. %v", len(bad), bad[:min(len(bad), 5)])
}

// reservePort returns a loopback host:port that nothing listens on: it
// listens on a free port, notes it and closes the listener.
func reservePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	return addr
}

// writeDeliveryConfig writes a config with its data in dir/data and one
// webhook, wh_crash, that takes every crash.* event. The retry schedule is
// short, but with ten retries and the circuit breaker in front of them no
// delivery runs out of attempts while the receiver is down. The attempt
// timeout is long, so that a busy machine does not fail healthy attempts.
func writeDeliveryConfig(tb testing.TB, dir, url, secret string) string {
	tb.Helper()
	path := filepath.Join(dir, "gw.yaml")
	body := fmt.Sprintf(`server:
  addr: 127.0.0.1:0
  shutdown_timeout: 10s
storage:
  path: %s
  sync: true
log:
  level: info
delivery:
  workers: 16
  timeout: 30s
  retry_schedule: [100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s, 1s, 1s, 1s]
  breaker_failures: 20
  allowed_cidrs: [127.0.0.0/8]
webhooks:
  - id: wh_crash
    url: %s
    event_types: ["crash.>"]
    secret: %s
    max_in_flight: 4
`, filepath.Join(dir, "data"), url, secret)
	require.NoError(tb, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// publishEvents publishes n events of type typ in batches and returns their
// ids, in order.
func publishEvents(tb testing.TB, s *server, typ string, n, batch int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	for start := 0; start < n; start += batch {
		var b strings.Builder
		b.WriteString(`{"events":[`)
		for i := start; i < min(start+batch, n); i++ {
			if i > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":%q,"data":{"n":%d}}`, typ, i)
		}
		b.WriteString(`]}`)
		resp, err := httpClient.Post(s.base+"/v1/events/batch", "application/json", strings.NewReader(b.String()))
		require.NoError(tb, err)
		var page struct{ Data []struct{ ID string } }
		derr := json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		require.Equal(tb, http.StatusAccepted, resp.StatusCode, "publishing a batch")
		require.NoError(tb, derr, "decoding the batch receipt")
		for _, r := range page.Data {
			ids = append(ids, r.ID)
		}
	}
	require.Equal(tb, n, len(ids), "receipts")
	return ids
}

// countDeliveries counts the deliveries in status st, through the API.
func (s *server) countDeliveries(tb testing.TB, st string) int {
	tb.Helper()
	n, cursor := 0, ""
	for {
		var page struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor string            `json:"next_cursor"`
		}
		require.Equal(tb, http.StatusOK, s.getJSON(tb, "/v1/deliveries?limit=1000&status="+st+"&cursor="+cursor, &page))
		n += len(page.Data)
		if page.NextCursor == "" {
			return n
		}
		cursor = page.NextCursor
	}
}

// kill sends SIGKILL and waits for the process to die.
func kill(tb testing.TB, s *server) {
	tb.Helper()
	require.NoError(tb, s.cmd.Process.Kill())
	require.Equal(tb, -1, s.wait(tb)) // killed by a signal
}

// receiver is a webhook endpoint on a fixed address. It verifies every
// request with sdk/verify and counts the deliveries of each webhook-id.
type receiver struct {
	v     *verify.Verifier
	delay time.Duration

	mu     sync.Mutex
	counts map[string]int
	bad    []string // why requests failed verification
}

// startReceiver serves the receiver on addr until the test ends. Each
// accepted delivery is answered 204 after delay, which keeps deliveries in
// flight long enough for a SIGKILL to land among them.
func startReceiver(tb testing.TB, addr, secret string, delay time.Duration) *receiver {
	tb.Helper()
	v, err := verify.New(secret)
	require.NoError(tb, err)
	r := &receiver{v: v, delay: delay, counts: make(map[string]int)}
	ln, err := net.Listen("tcp", addr)
	require.NoError(tb, err, "listening on the reserved port %s", addr)
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // the gateway died mid-request
	}
	id := req.Header.Get("webhook-id")
	var p struct{ ID string }
	if verr := r.v.Verify(req.Header, body); verr != nil || json.Unmarshal(body, &p) != nil || p.ID != id {
		r.mu.Lock()
		r.bad = append(r.bad, fmt.Sprintf("%s: %v (body id %q)", id, verr, p.ID))
		r.mu.Unlock()
		http.Error(w, "invalid webhook", http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	r.counts[id]++
	r.mu.Unlock()
	time.Sleep(r.delay)
	w.WriteHeader(http.StatusNoContent)
}

// seen returns how many of ids have arrived at least once.
func (r *receiver) seen(ids []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range ids {
		if r.counts[id] > 0 {
			n++
		}
	}
	return n
}

// duplicates returns how many deliveries of ids arrived beyond the first.
func (r *receiver) duplicates(ids []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range ids {
		n += max(r.counts[id]-1, 0)
	}
	return n
}

// rejected returns why requests failed verification, if any did.
func (r *receiver) rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// awaitAll waits, at most deliveryLimit, until every one of ids has
// arrived, failing the test with the missing ones if not.
func (r *receiver) awaitAll(tb testing.TB, s *server, ids []string) {
	tb.Helper()
	deadline := time.After(deliveryLimit)
	for r.seen(ids) < len(ids) {
		select {
		case <-s.exited:
			tb.Fatalf("gateway exited with %d of %d events delivered: %v", r.seen(ids), len(ids), s.err)
		case <-deadline:
			var missing []string
			r.mu.Lock()
			for _, id := range ids {
				if r.counts[id] == 0 && len(missing) < 5 {
					missing = append(missing, id)
				}
			}
			r.mu.Unlock()
			tb.Fatalf("only %d of %d events delivered, e.g. missing %v; %d failed, %d pending, %d dead",
				r.seen(ids), len(ids), missing, s.countDeliveries(tb, "failed"), s.countDeliveries(tb, "pending"), s.countDeliveries(tb, "dead"))
		case <-time.After(10 * time.Millisecond):
		}
	}
}
