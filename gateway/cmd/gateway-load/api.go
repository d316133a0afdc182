package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// api is a client of the gateway's admin and publish endpoints.
type api struct {
	base   string
	key    string
	client *http.Client
}

func (a *api) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// adminWorkers is how many webhook registrations or deletions run at once:
// enough to keep the gateway's group commit busy, few enough for two cores.
const adminWorkers = 16

// hookSpec returns the body of webhook i for POST /v1/webhooks.
type hookSpec func(i int) map[string]any

// receiverHooks returns the spec of webhook i of the delivery modes: it
// takes every event the modes publish and points at base/hook/<i>.
func receiverHooks(base, secret string, maxInFlight int, retry []string) hookSpec {
	return func(i int) map[string]any {
		spec := map[string]any{
			"url":         fmt.Sprintf("%s/hook/%d", base, i),
			"event_types": []string{eventType},
			"description": "gateway-load",
			"secret":      secret,
		}
		if maxInFlight > 0 {
			spec["max_in_flight"] = maxInFlight
		}
		if retry != nil {
			spec["retry_schedule"] = retry
		}
		return spec
	}
}

// decoyHooks returns the spec of decoy i: two patterns of its own, neither
// matching eventType, so fan-out has to rule it out for every event.
func decoyHooks(base string) hookSpec {
	return func(i int) map[string]any {
		return map[string]any{
			"url":         fmt.Sprintf("%s/decoy/%d", base, i),
			"event_types": []string{fmt.Sprintf("t%d.order.*", i), fmt.Sprintf("t%d.invoice.paid", i)},
			"description": "gateway-load decoy",
		}
	}
}

// registerHooks creates n webhooks, adminWorkers at a time, and returns
// their ids in order. On error it returns the ids it created (the others
// are empty) with the first error.
func (a *api) registerHooks(ctx context.Context, n int, spec hookSpec) ([]string, error) {
	ids := make([]string, n)
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(adminWorkers, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				body, _ := json.Marshal(spec(i))
				var created struct{ ID string }
				if _, err := a.do(ctx, http.MethodPost, "/v1/webhooks", body, &created); err != nil {
					errOnce.Do(func() { first = fmt.Errorf("registering webhook %d: %w", i, err); cancel() })
					return
				}
				ids[i] = created.ID
			}
		})
	}
	wg.Wait()
	return ids, first
}

// deleteHooks deletes the webhooks ids names (skipping empty ones),
// adminWorkers at a time, ignoring errors: a fresh gateway is the next
// run's guarantee, this is tidiness.
func (a *api) deleteHooks(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(adminWorkers, len(ids)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				if ids[i] != "" {
					_, _ = a.do(ctx, http.MethodDelete, "/v1/webhooks/"+ids[i], nil, nil)
				}
			}
		})
	}
	wg.Wait()
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
