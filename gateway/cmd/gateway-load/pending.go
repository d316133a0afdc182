package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// pendingResult is what -mode pending measured.
type pendingResult struct {
	Gateway    string  `json:"gateway"`
	Webhooks   int     `json:"webhooks"`
	Events     int64   `json:"events"`
	Deliveries int64   `json:"deliveries"`
	CreateS    float64 `json:"seconds_until_created"`
	// Unfinished and Attempted are counted through the API after the
	// memory was read: deliveries pending or failed, and how many of those
	// had an attempt.
	Unfinished int64    `json:"unfinished"`
	Attempted  int64    `json:"attempted"`
	Idle       *procMem `json:"memory_before,omitempty"`
	Created    *procMem `json:"memory_created,omitempty"`
	Settled    *procMem `json:"memory_settled,omitempty"`
	SettleS    float64  `json:"settle_seconds"`
}

func (r *pendingResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "target        %s, %d webhooks answering 503\n", r.Gateway, r.Webhooks)
	fmt.Fprintf(w, "created       %d events, %d deliveries in %.1fs\n", r.Events, r.Deliveries, r.CreateS)
	fmt.Fprintf(w, "unfinished    %d (of which %d attempted)\n", r.Unfinished, r.Attempted)
	if r.Idle != nil {
		fmt.Fprintf(w, "memory before %s\n", r.Idle)
		fmt.Fprintf(w, "memory created %s\n", r.Created)
		fmt.Fprintf(w, "memory settled %s (%.0fs later)\n", r.Settled, r.SettleS)
	}
}

// runPending runs -mode pending: webhooks whose endpoint answers 503
// slowly, -n events published to them in batches, and the gateway's memory
// once every delivery exists and is waiting.
func runPending(ctx context.Context, c config) (*pendingResult, error) {
	secret := webhook.NewSecret()
	rcv, err := startReceiver(ctx, c.Recv, secret, c.Slow)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	res := &pendingResult{Gateway: c.URL, Webhooks: c.Fanout}
	if c.Pid > 0 {
		m, err := readProcMem(c.Pid)
		if err != nil {
			return nil, err
		}
		res.Idle = &m
	}
	gw := &api{base: c.URL, key: c.Key, client: publishClient(c.Conc)}
	defer gw.client.CloseIdleConnections()
	hooks, err := gw.registerHooks(ctx, c.Fanout, rcv.url, secret, c.MaxInFlight)
	if err != nil {
		gw.deleteHooks(hooks)
		return nil, err
	}

	start := time.Now()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		lastID []string // the last event id each request got back
		errs   = make(chan error, c.Conc)
		wg     sync.WaitGroup
	)
	pad := strings.Repeat("x", max(0, c.Size-48))
	for range c.Conc {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil {
				first := next.Add(int64(c.Batch)) - int64(c.Batch)
				if first >= int64(c.Events) {
					return
				}
				n := int(min(int64(c.Batch), int64(c.Events)-first))
				body := bytes.Clone(eventBody(&buf, first, n, time.Now().UnixNano(), pad, true))
				var page struct{ Data []struct{ ID string } }
				if _, err := gw.do(ctx, http.MethodPost, "/v1/events/batch", body, &page); err != nil {
					errs <- err
					return
				}
				if len(page.Data) > 0 {
					mu.Lock()
					lastID = append(lastID, page.Data[len(page.Data)-1].ID)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("publishing: %w", err)
	}
	res.Events = int64(c.Events)
	res.Deliveries = res.Events * int64(c.Fanout)

	// Fan-out has created every delivery once the bus has dispatched every
	// event: the last of each request is enough, as the cursor only moves
	// forward.
	for _, id := range lastID {
		for {
			var ev struct{ Status string }
			if _, err := gw.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, &ev); err != nil {
				return nil, err
			}
			if ev.Status == "dispatched" {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	res.CreateS = time.Since(start).Seconds()
	if c.Pid > 0 {
		m, err := readProcMem(c.Pid)
		if err != nil {
			return nil, err
		}
		res.Created = &m
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.Settle):
		}
		if m, err = readProcMem(c.Pid); err != nil {
			return nil, err
		}
		res.Settled, res.SettleS = &m, c.Settle.Seconds()
	}
	for _, h := range hooks {
		for _, st := range []string{"pending", "failed"} {
			n, attempted, err := gw.countDeliveries(ctx, h, st)
			if err != nil {
				return nil, err
			}
			res.Unfinished += n
			res.Attempted += attempted
		}
	}
	gw.deleteHooks(hooks)
	return res, nil
}

// countDeliveries counts the deliveries of webhook id in status st, and how
// many of them have had an attempt.
func (a *api) countDeliveries(ctx context.Context, id, st string) (n, attempted int64, err error) {
	cursor := ""
	for {
		var page struct {
			Data []struct {
				Attempts int `json:"attempts"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"webhook_id": {id}, "status": {st}, "limit": {"1000"}, "cursor": {cursor}}
		if _, err := a.do(ctx, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, &page); err != nil {
			return n, attempted, err
		}
		for _, d := range page.Data {
			n++
			if d.Attempts > 0 {
				attempted++
			}
		}
		if page.NextCursor == "" {
			return n, attempted, nil
		}
		cursor = page.NextCursor
	}
}
