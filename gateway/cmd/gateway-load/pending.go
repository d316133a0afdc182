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
	Gateway  string   `json:"gateway"`
	Webhooks int      `json:"webhooks"`
	Endpoint string   `json:"endpoint"` // what the webhooks' receiver does
	Retry    []string `json:"webhook_retry_schedule,omitempty"`

	Events     int64   `json:"events"`
	Deliveries int64   `json:"deliveries"`
	PublishS   float64 `json:"publish_seconds"`
	CreateS    float64 `json:"seconds_until_created"`
	// Unfinished and Attempted are counted through the API after the
	// memory was read (after the restart, with -gw): deliveries pending or
	// failed, and how many of those had an attempt.
	Unfinished int64    `json:"unfinished"`
	Attempted  int64    `json:"attempted"`
	CountS     float64  `json:"count_seconds"`
	Idle       *procMem `json:"memory_before,omitempty"`
	Created    *procMem `json:"memory_created,omitempty"`
	Settled    *procMem `json:"memory_settled,omitempty"`
	SettleS    float64  `json:"settle_seconds"`

	Restart *restartResult `json:"restart,omitempty"`
}

// restartResult is the recovery -mode pending -gw measured: SIGKILL once
// every delivery exists, then the same command on the same data directory.
type restartResult struct {
	ReadyS  float64  `json:"seconds_to_ready"` // from the start of the process to /readyz 200
	Ready   *procMem `json:"memory_ready"`
	Settled *procMem `json:"memory_settled"`
	SettleS float64  `json:"settle_seconds"`
}

func (r *pendingResult) writeText(w io.Writer) {
	fmt.Fprintf(w, "target        %s, %d webhooks whose endpoint %s\n", r.Gateway, r.Webhooks, r.Endpoint)
	if r.Retry != nil {
		fmt.Fprintf(w, "retry         %q on every webhook\n", r.Retry)
	}
	fmt.Fprintf(w, "created       %d events, %d deliveries in %.1fs (published in %.1fs)\n", r.Events, r.Deliveries, r.CreateS, r.PublishS)
	if r.Idle != nil {
		fmt.Fprintf(w, "memory before %s\n", r.Idle)
		fmt.Fprintf(w, "memory created %s\n", r.Created)
		fmt.Fprintf(w, "memory settled %s (%.0fs later)\n", r.Settled, r.SettleS)
	}
	if x := r.Restart; x != nil {
		fmt.Fprintf(w, "ready after   %.2f s  (SIGKILL, then the same command on the same data: from its start to GET /readyz 200)\n", x.ReadyS)
		fmt.Fprintf(w, "memory ready  %s\n", x.Ready)
		fmt.Fprintf(w, "memory later  %s (%.0fs after ready)\n", x.Settled, x.SettleS)
	}
	fmt.Fprintf(w, "unfinished    %d (of which %d attempted), counted through the API in %.1fs\n", r.Unfinished, r.Attempted, r.CountS)
}

// runPending runs -mode pending: webhooks whose endpoint answers 503
// slowly (or never, with -hang), -n events published to them in batches,
// and the gateway's memory once every delivery exists and is waiting. With
// -gw it starts the gateway itself and, after that, kills it with SIGKILL
// and times the restart on the same data.
func runPending(ctx context.Context, c config) (*pendingResult, error) {
	var gwp *gatewayProc
	if c.GW != "" {
		var err error
		if gwp, err = newGatewayProc(c); err != nil {
			return nil, err
		}
		defer gwp.close()
		if _, err := gwp.start(ctx); err != nil {
			return nil, err
		}
		c.Pid = gwp.pid()
	}
	secret := webhook.NewSecret()
	res := &pendingResult{Gateway: c.URL, Webhooks: c.Fanout, Retry: c.Retry}
	var base string
	if c.Hang != "" {
		hangURL, err := startHang(ctx, c.Hang)
		if err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		base, res.Endpoint = hangURL, "reads each request and never answers"
	} else {
		rcv, err := startReceiver(ctx, c.Recv, secret, c.Slow)
		if err != nil {
			return nil, fmt.Errorf("receiver: %w", err)
		}
		base, res.Endpoint = rcv.url, fmt.Sprintf("answers 503 after %s", c.Slow)
	}
	if c.Pid > 0 {
		m, err := readProcMem(c.Pid)
		if err != nil {
			return nil, err
		}
		res.Idle = &m
	}
	gw := &api{base: c.URL, key: c.Key, client: publishClient(max(c.Conc, adminWorkers))}
	defer gw.client.CloseIdleConnections()
	hooks, err := gw.registerHooks(ctx, c.Fanout, receiverHooks(base, secret, c.MaxInFlight, c.Retry))
	if err != nil {
		gw.deleteHooks(hooks)
		return nil, err
	}

	start := time.Now()
	lastIDs, err := publishAll(ctx, gw, c)
	if err != nil {
		return nil, fmt.Errorf("publishing: %w", err)
	}
	res.PublishS = time.Since(start).Seconds()
	res.Events = int64(c.Events)
	res.Deliveries = res.Events * int64(c.Fanout)
	if err := awaitDispatched(ctx, gw, lastIDs); err != nil {
		return nil, err
	}
	res.CreateS = time.Since(start).Seconds()
	if c.Pid > 0 {
		if res.Created, res.Settled, err = memoryThenLater(ctx, c.Pid, c.Settle); err != nil {
			return nil, err
		}
		res.SettleS = c.Settle.Seconds()
	}
	if gwp != nil {
		gwp.kill()
		x := &restartResult{SettleS: c.Settle.Seconds()}
		ready, err := gwp.start(ctx)
		if err != nil {
			return nil, fmt.Errorf("restart: %w", err)
		}
		x.ReadyS = ready.Seconds()
		if x.Ready, x.Settled, err = memoryThenLater(ctx, gwp.pid(), c.Settle); err != nil {
			return nil, err
		}
		res.Restart = x
	}
	t0 := time.Now()
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
	res.CountS = time.Since(t0).Seconds()
	if gwp == nil {
		gw.deleteHooks(hooks) // a gateway this tool started goes with its data
	}
	return res, nil
}

// publishAll publishes -n events in batches of -batch from -c workers and
// returns the id of the last event of each request.
func publishAll(ctx context.Context, gw *api, c config) ([]string, error) {
	var (
		next   atomic.Int64
		mu     sync.Mutex
		lastID []string
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
		return nil, err
	}
	return lastID, ctx.Err()
}

// awaitDispatched waits until the bus has dispatched each of ids: fan-out
// has then created every delivery of the events published before them, the
// last of each request being enough, as the cursor only moves forward.
func awaitDispatched(ctx context.Context, gw *api, ids []string) error {
	for _, id := range ids {
		for {
			var ev struct{ Status string }
			if _, err := gw.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, &ev); err != nil {
				return err
			}
			if ev.Status == "dispatched" {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// memoryThenLater reads pid's memory now and again after d.
func memoryThenLater(ctx context.Context, pid int, d time.Duration) (now, later *procMem, err error) {
	m, err := readProcMem(pid)
	if err != nil {
		return nil, nil, err
	}
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-time.After(d):
	}
	l, err := readProcMem(pid)
	if err != nil {
		return nil, nil, err
	}
	return &m, &l, nil
}
