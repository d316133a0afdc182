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
	"sync/atomic"
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
// Delivery is at least once, with duplicates bounded by what was in flight:
// each SIGKILL may repeat at most the deliveries in flight when it landed
// (inFlightBound).
func TestServe_deliveryCrash(t *testing.T) {
	const perRound, batch, maxInFlight = 2000, 100, 4
	dir := t.TempDir()
	secret := webhook.NewSecret()
	addr := reservePort(t)
	cfg := writeDeliveryConfig(t, dir, "http://"+addr+"/hook", secret)

	// Round 1: the receiver is down.
	s := serve(t, cfg)
	round1 := at("/hook", publishEvents(t, s, "crash.one", perRound, batch))
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
	round2 := at("/hook", publishEvents(t, s, "crash.two", perRound, batch))
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
	bound := inFlightBound(1, maxInFlight)
	require.True(t, dup1 <= bound && dup2 <= bound, "duplicates %d and %d; want at most %d (in flight) per SIGKILL", dup1, dup2, bound)
	require.Equal(t, dup1, rcv.duplicates(round1), "round 1 events delivered again in round 2")
	bad := rcv.rejected()
	require.True(t, len(bad) == 0, "%d requests failed verification, e.g. %v", len(bad), bad[:min(len(bad), 5)])
}

// TestServe_replayCrash kills the gateway while it delivers a replay
// (issue 11). 10,000 events are delivered to one webhook and have
// succeeded; a replay of all of them is requested through the API; once a
// quarter of the replay has arrived, the gateway gets SIGKILL. After a
// restart on the same data directory every replayed delivery must arrive
// at least once more, counted from the replay request on, and the replay
// may repeat at most what was in flight at the kill (inFlightBound: the
// webhook's max_in_flight of 8). A replay is acknowledged only once its
// deliveries are stored as pending, so a kill cannot lose it.
func TestServe_replayCrash(t *testing.T) {
	const events, batch, maxInFlight = 10_000, 1000, 8
	dir := t.TempDir()
	secret := webhook.NewSecret()
	addr := reservePort(t)
	cfg := writeCrashConfig(t, dir, secret, maxInFlight, "http://"+addr+"/hook")
	rcv := startReceiver(t, addr, secret, 2*time.Millisecond)
	s := serve(t, cfg)

	since := time.Now().Add(-time.Minute).UTC()
	keys := at("/hook", publishEvents(t, s, "crash.replay", events, batch))
	rcv.awaitAll(t, s, keys)
	s.await(t, time.After(deliveryLimit), "record every delivery as succeeded", func() bool {
		return s.countDeliveries(t, "succeeded") == events
	})
	first := rcv.duplicates(keys)
	rcv.reset()

	body := fmt.Sprintf(`{"since":%q}`, since.Format(time.RFC3339Nano))
	resp, err := httpClient.Post(s.base+"/v1/webhooks/wh_crash/replay", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	var res struct{ Replayed, Skipped, NotYetDispatched int }
	derr := json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "replay")
	require.NoError(t, derr, "decoding the replay answer")
	require.Equal(t, events, res.Replayed, "replayed (skipped %d, not yet dispatched %d)", res.Skipped, res.NotYetDispatched)

	s.await(t, time.After(deliveryLimit), "deliver a quarter of the replay", func() bool {
		return rcv.seen(keys) >= events/4
	})
	kill(t, s)
	atKill := rcv.seen(keys)
	t.Logf("SIGKILL with %d of %d replayed deliveries received (%d duplicates before the replay)", atKill, events, first)

	s = serve(t, cfg)
	rcv.awaitAll(t, s, keys)
	dups, bound := rcv.duplicates(keys), inFlightBound(1, maxInFlight)
	t.Logf("every replayed delivery arrived after the restart; %d duplicates", dups)
	require.True(t, dups <= bound, "%d replayed deliveries arrived twice; want at most %d (in flight at the kill)", dups, bound)
	bad := rcv.rejected()
	require.True(t, len(bad) == 0, "%d requests failed verification, e.g. %v", len(bad), bad[:min(len(bad), 5)])
}

// TestServe_fanoutCrash kills the gateway during a fan-out of 100 (issue
// 11). 100 webhooks take every event; events are published in batches of
// 10 from one goroutine while the deliveries flow, and the gateway gets
// SIGKILL as soon as the deliveries of 5 events have arrived: publishing,
// fan-out and delivery are then all under way (the log says how far each
// had got). After a restart on the same data directory,
// every (acknowledged event, webhook) pair must arrive at least once, and
// at most what was in flight at the kill may arrive twice (inFlightBound:
// the 16 workers, fewer than 100 webhooks × max_in_flight 4).
func TestServe_fanoutCrash(t *testing.T) {
	const hooks, events, batch, maxInFlight = 100, 200, 10, 4
	dir := t.TempDir()
	secret := webhook.NewSecret()
	addr := reservePort(t)
	urls := make([]string, hooks)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://%s/hook/%d", addr, i)
	}
	cfg := writeCrashConfig(t, dir, secret, maxInFlight, urls...)
	rcv := startReceiver(t, addr, secret, time.Millisecond)
	s := serve(t, cfg)

	var (
		mu      sync.Mutex
		acked   []string
		killed  atomic.Bool
		pubErr  error
		publish sync.WaitGroup
	)
	pairs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var keys []string
		for i := range hooks {
			keys = append(keys, at(fmt.Sprintf("/hook/%d", i), acked)...)
		}
		return keys
	}
	publish.Go(func() {
		for start := 0; start < events; start += batch {
			ids, err := publishBatch(s, "crash.fan", start, batch)
			if err != nil {
				if !killed.Load() {
					pubErr = err
				}
				return
			}
			mu.Lock()
			acked = append(acked, ids...)
			mu.Unlock()
		}
	})
	s.await(t, time.After(deliveryLimit), "deliver the first events", func() bool {
		return rcv.distinct() >= 5*hooks
	})
	mu.Lock()
	last := acked[len(acked)-1]
	mu.Unlock()
	var ev struct{ Status string }
	s.getJSON(t, "/v1/events/"+last, &ev)
	killed.Store(true)
	kill(t, s)
	atKill := rcv.seen(pairs())
	publish.Wait()
	require.NoError(t, pubErr, "publishing before the kill")
	keys := pairs()
	t.Logf("SIGKILL with %d of %d events acknowledged (the last of them %s), %d of their %d deliveries received",
		len(keys)/hooks, events, ev.Status, atKill, len(keys))

	s = serve(t, cfg)
	rcv.awaitAll(t, s, keys)
	dups, bound := rcv.duplicates(keys), inFlightBound(hooks, maxInFlight)
	t.Logf("every (event, webhook) pair arrived after the restart; %d duplicates", dups)
	require.True(t, dups <= bound, "%d deliveries arrived twice; want at most %d (in flight at the kill)", dups, bound)
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
// webhook, wh_crash, that takes every crash.* event, with max_in_flight 4.
func writeDeliveryConfig(tb testing.TB, dir, url, secret string) string {
	tb.Helper()
	return writeCrashConfig(tb, dir, secret, 4, url)
}

// writeCrashConfig writes a config with its data in dir/data and one
// webhook per URL, each taking every crash.* event with maxInFlight: the
// first is wh_crash, the others wh_crash_1, wh_crash_2 ... The retry
// schedule is short, but with ten retries and the circuit breaker in front
// of them no delivery runs out of attempts while a receiver is down. The
// attempt timeout is long, so that a busy machine does not fail healthy
// attempts. 16 workers: at most 16 attempts are in flight at once.
func writeCrashConfig(tb testing.TB, dir, secret string, maxInFlight int, urls ...string) string {
	tb.Helper()
	path := filepath.Join(dir, "gw.yaml")
	var b strings.Builder
	fmt.Fprintf(&b, `server:
  addr: 127.0.0.1:0
  shutdown_timeout: 10s
storage:
  path: %s
  sync: true
log:
  level: info
delivery:
  workers: %d
  timeout: 30s
  retry_schedule: [100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s, 1s, 1s, 1s]
  breaker_failures: 20
  allowed_cidrs: [127.0.0.0/8]
webhooks:
`, filepath.Join(dir, "data"), crashWorkers)
	for i, url := range urls {
		id := "wh_crash"
		if i > 0 {
			id = fmt.Sprintf("wh_crash_%d", i)
		}
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    event_types: [\"crash.>\"]\n    secret: %s\n    max_in_flight: %d\n", id, url, secret, maxInFlight)
	}
	require.NoError(tb, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// crashWorkers is delivery.workers in the crash tests' config.
const crashWorkers = 16

// inFlightBound is how many deliveries one SIGKILL may repeat: those in
// flight when it lands. An attempt is in flight from the moment a worker
// takes it until its outcome is written, and the webhook's max_in_flight
// and delivery.workers cap how many are; a delivery whose success was
// written is never sent again. So with hooks webhooks of maxInFlight each,
// min(crashWorkers, hooks × maxInFlight).
func inFlightBound(hooks, maxInFlight int) int {
	return min(crashWorkers, hooks*maxInFlight)
}

// publishEvents publishes n events of type typ in batches and returns their
// ids, in order.
func publishEvents(tb testing.TB, s *server, typ string, n, batch int) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	for start := 0; start < n; start += batch {
		got, err := publishBatch(s, typ, start, min(batch, n-start))
		require.NoError(tb, err)
		ids = append(ids, got...)
	}
	require.Equal(tb, n, len(ids), "receipts")
	return ids
}

// publishBatch publishes n events of type typ, numbered from first, in one
// request and returns their ids. It is safe to call from any goroutine.
func publishBatch(s *server, typ string, first, n int) ([]string, error) {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := first; i < first+n; i++ {
		if i > first {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":%q,"data":{"n":%d}}`, typ, i)
	}
	b.WriteString(`]}`)
	resp, err := httpClient.Post(s.base+"/v1/events/batch", "application/json", strings.NewReader(b.String()))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var page struct{ Data []struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("publishing a batch: status %d, decoding the receipt: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusAccepted || len(page.Data) != n {
		return nil, fmt.Errorf("publishing a batch: status %d, %d receipts for %d events", resp.StatusCode, len(page.Data), n)
	}
	ids := make([]string, n)
	for i, r := range page.Data {
		ids[i] = r.ID
	}
	return ids, nil
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
// request with sdk/verify and counts the deliveries of each (path,
// webhook-id) pair: the path tells the webhooks apart, the webhook-id (the
// event id) the events. at makes the keys.
type receiver struct {
	v     *verify.Verifier
	delay time.Duration

	mu     sync.Mutex
	counts map[string]int
	bad    []string // why requests failed verification
}

// at returns the receiver's keys of the deliveries of ids to the webhook
// whose URL has path.
func at(path string, ids []string) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = path + " " + id
	}
	return keys
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
	r.counts[req.URL.Path+" "+id]++
	r.mu.Unlock()
	time.Sleep(r.delay)
	w.WriteHeader(http.StatusNoContent)
}

// reset forgets every delivery counted so far.
func (r *receiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.counts)
}

// distinct returns how many different deliveries have arrived.
func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.counts)
}

// seen returns how many of keys have arrived at least once.
func (r *receiver) seen(keys []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range keys {
		if r.counts[k] > 0 {
			n++
		}
	}
	return n
}

// duplicates returns how many deliveries of keys arrived beyond the first.
func (r *receiver) duplicates(keys []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range keys {
		n += max(r.counts[k]-1, 0)
	}
	return n
}

// rejected returns why requests failed verification, if any did.
func (r *receiver) rejected() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// awaitAll waits, at most deliveryLimit, until every one of keys has
// arrived, failing the test with the missing ones if not.
func (r *receiver) awaitAll(tb testing.TB, s *server, keys []string) {
	tb.Helper()
	deadline := time.After(deliveryLimit)
	for r.seen(keys) < len(keys) {
		select {
		case <-s.exited:
			tb.Fatalf("gateway exited with %d of %d deliveries arrived: %v", r.seen(keys), len(keys), s.err)
		case <-deadline:
			var missing []string
			r.mu.Lock()
			for _, k := range keys {
				if r.counts[k] == 0 && len(missing) < 5 {
					missing = append(missing, k)
				}
			}
			r.mu.Unlock()
			tb.Fatalf("only %d of %d deliveries arrived, e.g. missing %q; %d failed, %d pending, %d dead",
				r.seen(keys), len(keys), missing, s.countDeliveries(tb, "failed"), s.countDeliveries(tb, "pending"), s.countDeliveries(tb, "dead"))
		case <-time.After(10 * time.Millisecond):
		}
	}
}
