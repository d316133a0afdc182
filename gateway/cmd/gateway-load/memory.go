package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// rssSampler records the peak VmRSS of a process, read from /proc every
// 100 ms, and its VmHWM at the end. Only its goroutine writes peak; end
// reads it after that goroutine has returned.
type rssSampler struct {
	peak procMem
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := readProcMem(pid); err == nil {
				if m.VmRSS > s.peak.VmRSS {
					s.peak = m
				}
				s.peak.VmHWM = max(s.peak.VmHWM, m.VmHWM)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// end stops sampling and returns the reading with the highest VmRSS (with
// the highest VmHWM seen).
func (s *rssSampler) end() procMem {
	close(s.stop)
	<-s.done
	return s.peak
}

// startHang serves a webhook receiver that reads each request and never
// answers, until ctx ends: the worst endpoint for the gateway's memory,
// since every delivery to it waits for delivery.timeout. It returns its
// base URL.
func startHang(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-ctx.Done():
		case <-r.Context().Done():
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// registerHang registers one webhook taking every event, pointing at url,
// and returns its id.
func (a *api) registerHang(ctx context.Context, url string) (string, error) {
	body, _ := json.Marshal(map[string]any{"url": url + "/hang", "event_types": []string{">"}, "description": "gateway-load -hang"})
	var created struct{ ID string }
	_, err := a.do(ctx, http.MethodPost, "/v1/webhooks", body, &created)
	return created.ID, err
}

// retryAfter is how long a 503 or 429 answer asks the client to wait
// (whole seconds only, at most 10 s); 0 for other answers.
func retryAfter(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
		return 0
	}
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 10*time.Second)
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
