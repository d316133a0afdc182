package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// eventType is the type of every event the delivery modes publish; the
// webhooks they register take exactly this type.
const eventType = "load.deliver"

// deliveryResult is what -mode deliver measured. Latencies are in ms.
type deliveryResult struct {
	Gateway      string  `json:"gateway"`
	Receiver     string  `json:"receiver"`
	Fanout       int     `json:"fanout"`
	MaxInFlight  int     `json:"webhook_max_in_flight,omitempty"`
	Publishers   int     `json:"publishers"`
	EventsPerReq int     `json:"events_per_request"`
	DataBytes    int     `json:"data_bytes_per_event"`
	TargetRate   float64 `json:"target_events_per_second,omitempty"`
	Seconds      float64 `json:"seconds"`

	Published     int64   `json:"events_published"`
	PublishedPerS float64 `json:"events_published_per_second"`
	Lagged        int64   `json:"publish_ticks_missed,omitempty"`
	PublishErrs   int64   `json:"publish_errors"`
	Deliveries    int64   `json:"deliveries_in_window"`
	DeliveriesPS  float64 `json:"deliveries_per_second"`
	EventsPerS    float64 `json:"delivered_events_per_second"`
	latencyMS
	Expected   int64    `json:"deliveries_expected"`
	Missing    int64    `json:"missing"`
	Duplicates int64    `json:"duplicates"`
	Rejected   int64    `json:"rejected"`
	DrainS     float64  `json:"drain_seconds"`
	Samples    []string `json:"samples,omitempty"`

	Raw   *rawResult `json:"raw_ceiling,omitempty"`
	Ratio float64    `json:"ratio_to_raw,omitempty"`

	CPU    *cpuUse  `json:"cpu,omitempty"`
	Memory *procMem `json:"gateway_memory,omitempty"`
}

// latencyMS holds publish-to-delivery latency percentiles in ms: receive
// time at the receiver minus the sent_ns the event carries.
type latencyMS struct {
	Samples int     `json:"latency_samples"`
	P50     float64 `json:"latency_p50_ms"`
	P95     float64 `json:"latency_p95_ms"`
	P99     float64 `json:"latency_p99_ms"`
	Max     float64 `json:"latency_max_ms"`
}

func newLatency(sorted []time.Duration) latencyMS {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	l := latencyMS{Samples: len(sorted), P50: ms(quantile(sorted, 0.50)), P95: ms(quantile(sorted, 0.95)), P99: ms(quantile(sorted, 0.99))}
	if len(sorted) > 0 {
		l.Max = ms(sorted[len(sorted)-1])
	}
	return l
}

func (l latencyMS) String() string {
	return fmt.Sprintf("p50 %.3f  p95 %.3f  p99 %.3f  max %.3f  (%d samples)", l.P50, l.P95, l.P99, l.Max, l.Samples)
}

// rawResult is the raw ceiling: the gateway's kind of HTTP client POSTing
// signed deliveries straight to the receiver.
type rawResult struct {
	Connections int     `json:"connections"`
	Seconds     float64 `json:"seconds"`
	Requests    int64   `json:"requests_in_window"`
	RequestsPS  float64 `json:"requests_per_second"`
	latencyMS
	Missing    int64   `json:"missing"`
	Duplicates int64   `json:"duplicates"`
	Rejected   int64   `json:"rejected"`
	Errors     int64   `json:"errors"`
	CPU        *cpuUse `json:"cpu,omitempty"`
}

func (r *deliveryResult) writeText(w io.Writer) {
	if r.Raw != nil {
		x := r.Raw
		fmt.Fprintf(w, "raw ceiling   %d connections POSTing signed deliveries to %s, %.2fs\n", x.Connections, r.Receiver, x.Seconds)
		fmt.Fprintf(w, "raw requests/s %.0f\n", x.RequestsPS)
		fmt.Fprintf(w, "raw latency ms %s\n", x.latencyMS)
		fmt.Fprintf(w, "raw check     missing %d  duplicates %d  rejected %d  errors %d\n", x.Missing, x.Duplicates, x.Rejected, x.Errors)
		if x.CPU != nil {
			fmt.Fprintf(w, "raw cpu       %s\n", x.CPU)
		}
	}
	rate := "as fast as the window allows"
	if r.TargetRate > 0 {
		rate = fmt.Sprintf("at %.0f events/s", r.TargetRate)
	}
	mif := "gateway default"
	if r.MaxInFlight > 0 {
		mif = strconv.Itoa(r.MaxInFlight)
	}
	fmt.Fprintf(w, "target        %s, fan-out %d (max_in_flight %s), %d publishers, %d events/request, ~%d B data/event, %s\n",
		r.Gateway, r.Fanout, mif, r.Publishers, r.EventsPerReq, r.DataBytes, rate)
	fmt.Fprintf(w, "measured      %.2fs\n", r.Seconds)
	fmt.Fprintf(w, "published     %d events (%.0f/s in the window), %d publish errors, %d ticks missed\n", r.Published, r.PublishedPerS, r.PublishErrs, r.Lagged)
	fmt.Fprintf(w, "deliveries/s  %.0f\n", r.DeliveriesPS)
	fmt.Fprintf(w, "events/s      %.0f\n", r.EventsPerS)
	fmt.Fprintf(w, "latency ms    %s\n", r.latencyMS)
	fmt.Fprintf(w, "check         expected %d  missing %d  duplicates %d  rejected %d  (drained in %.1fs)\n", r.Expected, r.Missing, r.Duplicates, r.Rejected, r.DrainS)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  sample: %s\n", s)
	}
	if r.Raw != nil {
		fmt.Fprintf(w, "ratio         %.2f (deliveries/s over raw requests/s)\n", r.Ratio)
	}
	if r.CPU != nil {
		fmt.Fprintf(w, "cpu           %s\n", r.CPU)
	}
	if r.Memory != nil {
		fmt.Fprintf(w, "memory        %s\n", r.Memory)
	}
}

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

// registerHooks creates n webhooks pointing at the receiver and returns
// their ids.
func (a *api) registerHooks(ctx context.Context, n int, recvURL, secret string, maxInFlight int) ([]string, error) {
	ids := make([]string, 0, n)
	for i := range n {
		spec := map[string]any{
			"url":         fmt.Sprintf("%s/hook/%d", recvURL, i),
			"event_types": []string{eventType},
			"description": "gateway-load",
			"secret":      secret,
		}
		if maxInFlight > 0 {
			spec["max_in_flight"] = maxInFlight
		}
		body, _ := json.Marshal(spec)
		var created struct{ ID string }
		if _, err := a.do(ctx, http.MethodPost, "/v1/webhooks", body, &created); err != nil {
			return ids, fmt.Errorf("registering webhook %d: %w", i, err)
		}
		ids = append(ids, created.ID)
	}
	return ids, nil
}

func (a *api) deleteHooks(ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range ids {
		_, _ = a.do(ctx, http.MethodDelete, "/v1/webhooks/"+id, nil, nil)
	}
}

// acks records which event numbers the gateway acknowledged.
type acks struct {
	mu sync.Mutex
	ok []bool
}

func (a *acks) add(from int64, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for int64(len(a.ok)) < from+int64(n) {
		a.ok = append(a.ok, false)
	}
	for i := range n {
		a.ok[from+int64(i)] = true
	}
}

func (a *acks) snapshot() []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]bool(nil), a.ok...)
}

// eventBody renders n events numbered from first, each carrying its number
// and sent_ns, as one POST body: a single event if batch is false.
func eventBody(b *bytes.Buffer, first int64, n int, sentNS int64, pad string, batch bool) []byte {
	b.Reset()
	if batch {
		b.WriteString(`{"events":[`)
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"` + eventType + `","data":`)
		eventData(b, first+int64(i), sentNS, pad)
		b.WriteByte('}')
	}
	if batch {
		b.WriteString(`]}`)
	}
	return b.Bytes()
}

// eventData writes the data object of event n.
func eventData(b *bytes.Buffer, n, sentNS int64, pad string) {
	b.WriteString(`{"n":`)
	b.Write(strconv.AppendInt(b.AvailableBuffer(), n, 10))
	b.WriteString(`,"sent_ns":`)
	b.Write(strconv.AppendInt(b.AvailableBuffer(), sentNS, 10))
	b.WriteString(`,"pad":"`)
	b.WriteString(pad)
	b.WriteString(`"}`)
}

// publishClient returns a client that keeps one connection per publisher.
func publishClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 4,
		MaxIdleConnsPerHost: conns + 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// runDeliver runs -mode deliver: the raw ceiling (unless -raw-c 0), then
// the end-to-end load through the gateway, against one receiver.
func runDeliver(ctx context.Context, c config) (*deliveryResult, error) {
	secret := webhook.NewSecret()
	rcv, err := startReceiver(ctx, c.Recv, secret, 0)
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	res := &deliveryResult{
		Gateway: c.URL, Receiver: rcv.url, Fanout: c.Fanout, MaxInFlight: c.MaxInFlight,
		Publishers: c.Conc, EventsPerReq: c.Batch, DataBytes: c.Size, TargetRate: c.Rate,
	}
	if c.RawConc > 0 {
		if res.Raw, err = runRaw(ctx, c, rcv, secret); err != nil {
			return nil, err
		}
	}
	gw := &api{base: c.URL, key: c.Key, client: publishClient(c.Conc)}
	defer gw.client.CloseIdleConnections()
	hooks, err := gw.registerHooks(ctx, c.Fanout, rcv.url, secret, c.MaxInFlight)
	defer gw.deleteHooks(hooks)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	from := start.Add(c.Warmup)
	end := from.Add(c.Duration)
	t := newTally(c.Fanout, from, end)
	rcv.t.Store(t)
	var cpu cpuSampler
	cpuAt := time.AfterFunc(time.Until(from), func() { cpu.begin(c.Pid) })
	defer cpuAt.Stop()

	var (
		next      atomic.Int64 // the next event number
		published atomic.Int64 // events acknowledged
		inWindow  atomic.Int64 // events acknowledged within the window
		errs      atomic.Int64
		lagged    atomic.Int64
		acked     acks
		sampleMu  sync.Mutex
	)
	addSample := func(s string) {
		sampleMu.Lock()
		defer sampleMu.Unlock()
		if len(res.Samples) < maxSamples {
			res.Samples = append(res.Samples, s)
		}
	}
	runCtx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()

	// With -rate, a pacer hands out one tick per request; without, each
	// publisher sends as fast as the -window of undelivered events allows.
	var ticks chan struct{}
	if c.Rate > 0 {
		ticks = make(chan struct{}, c.Conc)
		go func() {
			defer close(ticks)
			interval := time.Duration(float64(time.Second) * float64(c.Batch) / c.Rate)
			for at := start; at.Before(end); at = at.Add(interval) {
				if d := time.Until(at); d > 0 {
					select {
					case <-time.After(d):
					case <-runCtx.Done():
						return
					}
				}
				select {
				case ticks <- struct{}{}:
				default:
					lagged.Add(1) // every publisher is busy: the gateway is behind
				}
			}
		}()
	}
	path := "/v1/events"
	if c.Batch > 1 {
		path = "/v1/events/batch"
	}
	pad := strings.Repeat("x", max(0, c.Size-48))
	var wg sync.WaitGroup
	for range c.Conc {
		wg.Go(func() {
			var buf bytes.Buffer
			for runCtx.Err() == nil {
				if ticks != nil {
					if _, ok := <-ticks; !ok {
						return
					}
				} else {
					if !time.Now().Before(end) {
						return
					}
					for published.Load()-t.total.Load()/int64(c.Fanout) > int64(c.Window) && time.Now().Before(end) {
						time.Sleep(time.Millisecond)
					}
				}
				first := next.Add(int64(c.Batch)) - int64(c.Batch)
				now := time.Now()
				body := bytes.Clone(eventBody(&buf, first, c.Batch, now.UnixNano(), pad, c.Batch > 1))
				if _, err := gw.do(runCtx, http.MethodPost, path, body, nil); err != nil {
					if runCtx.Err() != nil {
						return
					}
					errs.Add(1)
					addSample(err.Error())
					time.Sleep(10 * time.Millisecond)
					continue
				}
				acked.add(first, c.Batch)
				published.Add(int64(c.Batch))
				if !now.Before(from) && now.Before(end) {
					inWindow.Add(int64(c.Batch))
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	res.CPU = cpu.end(c.Pid)
	if c.Pid > 0 {
		m, err := readProcMem(c.Pid)
		if err == nil {
			res.Memory = &m
		}
	}

	// Wait for the backlog to arrive, then check.
	ok := acked.snapshot()
	var want int64
	for _, a := range ok {
		if a {
			want++
		}
	}
	want *= int64(c.Fanout)
	drainStart := time.Now()
	last, lastAt := t.uniqueSeen(), time.Now()
	for t.uniqueSeen() < want && time.Since(drainStart) < c.Drain && time.Since(lastAt) < 20*time.Second && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if u := t.uniqueSeen(); u != last {
			last, lastAt = u, time.Now()
		}
	}
	res.DrainS = time.Since(drainStart).Seconds()

	res.Seconds = c.Duration.Seconds()
	res.Published = published.Load()
	res.PublishedPerS = float64(inWindow.Load()) / res.Seconds
	res.PublishErrs = errs.Load()
	res.Lagged = lagged.Load()
	t.mu.Lock()
	res.Deliveries = t.inWindow
	res.Rejected = t.rejected
	res.Samples = append(res.Samples, t.samples...)
	t.mu.Unlock()
	res.DeliveriesPS = float64(res.Deliveries) / res.Seconds
	res.EventsPerS = res.DeliveriesPS / float64(c.Fanout)
	res.latencyMS = newLatency(t.latencies())
	res.Expected = want
	res.Missing, res.Duplicates = t.check(ok)
	if res.Raw != nil && res.Raw.RequestsPS > 0 {
		res.Ratio = res.DeliveriesPS / res.Raw.RequestsPS
	}
	return res, nil
}

// runRaw POSTs signed deliveries from -raw-c workers straight to webhook 0
// of the receiver: the same body shape, headers and signature the gateway
// sends, with no gateway in between.
func runRaw(ctx context.Context, c config, rcv *receiver, secret string) (*rawResult, error) {
	sg, err := delivery.NewSigner(delivery.Key(secret))
	if err != nil {
		return nil, err
	}
	// The gateway's own client and signer: the same transport limits for
	// that many workers, no proxy, redirects not followed.
	const timeout = 15 * time.Second
	client := delivery.NewClient((&net.Dialer{Timeout: timeout}).DialContext, timeout, c.RawConc)
	defer client.CloseIdleConnections()
	start := time.Now()
	from := start.Add(c.Warmup)
	end := from.Add(c.Duration)
	t := newTally(1, from, end)
	rcv.t.Store(t)
	var cpu cpuSampler
	cpuAt := time.AfterFunc(time.Until(from), func() { cpu.begin(0) })
	defer cpuAt.Stop()
	var (
		next  atomic.Int64
		errs  atomic.Int64
		acked acks
	)
	target := rcv.url + "/hook/0"
	pad := strings.Repeat("x", max(0, c.Size-48))
	var wg sync.WaitGroup
	for range c.RawConc {
		wg.Go(func() {
			var buf, data bytes.Buffer
			for ctx.Err() == nil && time.Now().Before(end) {
				n := next.Add(1) - 1
				now := time.Now()
				id := "raw_" + strconv.FormatInt(n, 10)
				data.Reset()
				eventData(&data, n, now.UnixNano(), pad)
				buf.Reset()
				buf.WriteString(`{"id":"` + id + `","type":"` + eventType + `","timestamp":"`)
				buf.Write(now.UTC().AppendFormat(buf.AvailableBuffer(), time.RFC3339Nano))
				buf.WriteString(`","data":`)
				buf.Write(data.Bytes())
				buf.WriteByte('}')
				body := bytes.Clone(buf.Bytes())
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					errs.Add(1)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", "gateway-load")
				delivery.SetHeaders(req.Header, id, now, sg.Sign(id, now, body))
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs.Add(1)
					continue
				}
				acked.add(n, 1)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	r := &rawResult{Connections: c.RawConc, Seconds: c.Duration.Seconds(), Errors: errs.Load(), CPU: cpu.end(0)}
	t.mu.Lock()
	r.Requests, r.Rejected = t.inWindow, t.rejected
	t.mu.Unlock()
	r.RequestsPS = float64(r.Requests) / r.Seconds
	r.latencyMS = newLatency(t.latencies())
	r.Missing, r.Duplicates = t.check(acked.snapshot())
	return r, nil
}
