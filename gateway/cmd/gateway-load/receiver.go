package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/sdk/verify"
)

// receiver is the webhook endpoint of the delivery modes. Webhook i is
// served at /hook/<i>. Every request is verified with sdk/verify and
// decoded; its arrival is tallied by webhook and by the event number n in
// the event's data. It is safe for concurrent use.
type receiver struct {
	v   *verify.Verifier
	url string // http://host:port
	srv *http.Server
	// slow, if set, makes every answer a 503 after this long (-mode pending).
	slow time.Duration
	t    atomic.Pointer[tally]
}

// tally is what the receiver saw during one phase.
type tally struct {
	from, to time.Time // the measured window

	mu       sync.Mutex
	counts   [][]uint8 // [webhook][n]: deliveries of event n, saturating
	unique   int64
	inWindow int64           // deliveries received within [from, to)
	lat      []time.Duration // of events sent within [from, to)
	rejected int64
	samples  []string
	lastAt   time.Time // the latest arrival of a new (webhook, event) pair

	total atomic.Int64 // every accepted delivery, duplicates included
}

func newTally(hooks int, from, to time.Time) *tally {
	return &tally{from: from, to: to, counts: make([][]uint8, hooks)}
}

// startReceiver listens on addr and serves the receiver until ctx ends.
func startReceiver(ctx context.Context, addr, secret string, slow time.Duration) (*receiver, error) {
	v, err := verify.New(secret)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &receiver{v: v, url: "http://" + ln.Addr().String(), slow: slow}
	r.t.Store(newTally(1, time.Time{}, time.Time{}))
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = r.srv.Close() })
	return r, nil
}

// payload is the part of a delivery body the receiver reads.
type payload struct {
	ID   string `json:"id"`
	Data struct {
		N      int64 `json:"n"`
		SentNS int64 `json:"sent_ns"`
	} `json:"data"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	t := r.t.Load()
	hook, err := strconv.Atoi(strings.TrimPrefix(req.URL.Path, "/hook/"))
	if err != nil || hook < 0 || hook >= len(t.counts) {
		t.reject(fmt.Sprintf("no webhook at %s", req.URL.Path))
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // the sender went away
	}
	if r.slow > 0 {
		time.Sleep(r.slow)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if err := r.v.Verify(req.Header, body); err != nil {
		t.reject(err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != req.Header.Get("webhook-id") || p.Data.N < 0 {
		t.reject(fmt.Sprintf("body %.80q does not match webhook-id %q", body, req.Header.Get("webhook-id")))
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	t.record(hook, p.Data.N, time.Unix(0, p.Data.SentNS), now)
	w.WriteHeader(http.StatusNoContent)
}

func (t *tally) reject(why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rejected++
	if len(t.samples) < maxSamples {
		t.samples = append(t.samples, why)
	}
}

func (t *tally) record(hook int, n int64, sent, at time.Time) {
	t.total.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts[hook]
	if int64(len(c)) <= n {
		c = slices.Grow(c, int(n+1)-len(c)+len(c)/2)[:n+1]
		t.counts[hook] = c
	}
	if c[n] == 0 {
		t.unique++
		if at.After(t.lastAt) {
			t.lastAt = at
		}
	}
	if c[n] < 255 {
		c[n]++
	}
	if !at.Before(t.from) && at.Before(t.to) {
		t.inWindow++
	}
	if !sent.Before(t.from) && sent.Before(t.to) {
		t.lat = append(t.lat, at.Sub(sent))
	}
}

// uniqueSeen returns how many (webhook, event) pairs have arrived.
func (t *tally) uniqueSeen() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique
}

// check compares what arrived with the events acknowledged (acked[n]) and
// returns how many (webhook, event) pairs are missing and how many
// deliveries were duplicates.
func (t *tally) check(acked []bool) (missing, dups int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.counts {
		for n, ok := range acked {
			if ok && (n >= len(c) || c[n] == 0) {
				missing++
			}
		}
		for _, k := range c {
			if k > 1 {
				dups += int64(k) - 1
			}
		}
	}
	return missing, dups
}

// latencies returns the sorted publish-to-delivery latencies.
func (t *tally) latencies() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	lat := slices.Clone(t.lat)
	slices.Sort(lat)
	return lat
}
