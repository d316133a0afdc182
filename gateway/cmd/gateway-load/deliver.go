package main

import (
	"bytes"
	"context"
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
	Gateway      string   `json:"gateway"`
	Receiver     string   `json:"receiver"`
	Fanout       int      `json:"fanout"`
	MaxInFlight  int      `json:"webhook_max_in_flight,omitempty"`
	Retry        []string `json:"webhook_retry_schedule,omitempty"`
	Decoys       int      `json:"decoys,omitempty"`
	DecoyS       float64  `json:"decoys_register_seconds,omitempty"`
	Publishers   int      `json:"publishers"`
	EventsPerReq int      `json:"events_per_request"`
	DataBytes    int      `json:"data_bytes_per_event"`
	TargetRate   float64  `json:"target_events_per_second,omitempty"`
	Window       int      `json:"window,omitempty"`
	Seconds      float64  `json:"seconds"`

	Published     int64   `json:"events_published"`
	PublishedPerS float64 `json:"events_published_per_second"`
	// Late and MaxPublishing are set with -rate: publishes that started
	// more than lateAfter behind their time, and the most in flight at once.
	Late          int64   `json:"publishes_late,omitempty"`
	MaxPublishing int64   `json:"publishes_in_flight_max,omitempty"`
	PublishErrs   int64   `json:"publish_errors"`
	Deliveries    int64   `json:"deliveries_in_window"`
	DeliveriesPS  float64 `json:"deliveries_per_second"`
	EventsPerS    float64 `json:"delivered_events_per_second"`
	latencyMS
	Expected   int64    `json:"deliveries_expected"`
	Missing    int64    `json:"missing"`
	Duplicates int64    `json:"duplicates"`
	Rejected   int64    `json:"rejected"`
	Samples    []string `json:"samples,omitempty"`

	// The end-to-end figures cover the whole run: every (webhook, event)
	// pair that arrived, over the time from the first publish to the end
	// of publishing (PublishS) plus from then to the last arrival (DrainS).
	Unique   int64   `json:"deliveries_unique"`
	PublishS float64 `json:"publish_seconds"`
	DrainS   float64 `json:"drain_seconds"`
	E2EPerS  float64 `json:"end_to_end_deliveries_per_second"`

	Raw      *rawResult `json:"raw_ceiling,omitempty"`
	Ratio    float64    `json:"ratio_to_raw,omitempty"`
	E2ERatio float64    `json:"end_to_end_ratio_to_raw,omitempty"`

	CPU *cpuUse `json:"cpu,omitempty"`
	// GatewayCPUS is the gateway's CPU time over the same span as the
	// end-to-end figures, and CPUPerDelivery that over Unique.
	GatewayCPUS      float64  `json:"gateway_cpu_seconds,omitempty"`
	CPUPerDeliveryMS float64  `json:"gateway_cpu_per_delivery_ms,omitempty"`
	Memory           *procMem `json:"gateway_memory,omitempty"`
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
	rate := "as fast as they can"
	switch {
	case r.TargetRate > 0:
		rate = fmt.Sprintf("at %.0f events/s, one goroutine per publish", r.TargetRate)
	case r.Window > 0:
		rate = fmt.Sprintf("as fast as a window of %d undelivered events allows", r.Window)
	}
	mif := "gateway default"
	if r.MaxInFlight > 0 {
		mif = strconv.Itoa(r.MaxInFlight)
	}
	fmt.Fprintf(w, "target        %s, fan-out %d (max_in_flight %s), %d publishers, %d events/request, ~%d B data/event, %s\n",
		r.Gateway, r.Fanout, mif, r.Publishers, r.EventsPerReq, r.DataBytes, rate)
	if r.Retry != nil {
		fmt.Fprintf(w, "retry         %q on every webhook\n", r.Retry)
	}
	if r.Decoys > 0 {
		fmt.Fprintf(w, "decoys        %d webhooks matching nothing published, registered in %.1fs\n", r.Decoys, r.DecoyS)
	}
	fmt.Fprintf(w, "measured      %.2fs\n", r.Seconds)
	fmt.Fprintf(w, "published     %d events (%.0f/s in the window), %d publish errors", r.Published, r.PublishedPerS, r.PublishErrs)
	if r.TargetRate > 0 {
		fmt.Fprintf(w, ", %d publishes late by over %s, at most %d in flight", r.Late, lateAfter, r.MaxPublishing)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "deliveries/s  %.0f\n", r.DeliveriesPS)
	fmt.Fprintf(w, "events/s      %.0f\n", r.EventsPerS)
	fmt.Fprintf(w, "end-to-end/s  %.0f  (%d deliveries over %.2fs publishing + %.2fs drain)\n", r.E2EPerS, r.Unique, r.PublishS, r.DrainS)
	fmt.Fprintf(w, "latency ms    %s\n", r.latencyMS)
	fmt.Fprintf(w, "check         expected %d  missing %d  duplicates %d  rejected %d\n", r.Expected, r.Missing, r.Duplicates, r.Rejected)
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  sample: %s\n", s)
	}
	if r.Raw != nil {
		fmt.Fprintf(w, "ratio         %.2f (deliveries/s over raw requests/s)\n", r.Ratio)
		fmt.Fprintf(w, "e2e ratio     %.2f (end-to-end/s over raw requests/s)\n", r.E2ERatio)
	}
	if r.CPU != nil {
		fmt.Fprintf(w, "cpu           %s\n", r.CPU)
	}
	if r.GatewayCPUS > 0 || r.CPUPerDeliveryMS > 0 {
		fmt.Fprintf(w, "cpu/delivery  %.3f ms  (gateway CPU %.2fs over the %d deliveries, first publish to last arrival)\n", r.CPUPerDeliveryMS, r.GatewayCPUS, r.Unique)
	}
	if r.Memory != nil {
		fmt.Fprintf(w, "memory        %s\n", r.Memory)
	}
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
		Gateway: c.URL, Receiver: rcv.url, Fanout: c.Fanout, MaxInFlight: c.MaxInFlight, Retry: c.Retry,
		Publishers: c.Conc, EventsPerReq: c.Batch, DataBytes: c.Size, TargetRate: c.Rate,
	}
	if c.Rate == 0 {
		res.Window = c.Window
	}
	if c.RawConc > 0 {
		if res.Raw, err = runRaw(ctx, c, rcv, secret); err != nil {
			return nil, err
		}
	}
	gw := &api{base: c.URL, key: c.Key, client: publishClient(max(c.Conc, adminWorkers))}
	defer gw.client.CloseIdleConnections()
	if c.Decoys > 0 {
		t0 := time.Now()
		decoys, err := gw.registerHooks(ctx, c.Decoys, decoyHooks(rcv.url))
		defer gw.deleteHooks(decoys)
		if err != nil {
			return nil, err
		}
		res.Decoys, res.DecoyS = c.Decoys, time.Since(t0).Seconds()
	}
	hooks, err := gw.registerHooks(ctx, c.Fanout, receiverHooks(rcv.url, secret, c.MaxInFlight, c.Retry))
	defer gw.deleteHooks(hooks)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	from := start.Add(c.Warmup)
	end := from.Add(c.Duration)
	t := newTally(c.Fanout, from, end)
	rcv.t.Store(t)
	gwStat := fmt.Sprintf("/proc/%d/stat", c.Pid)
	gwTicks, gwOK := procTicks(gwStat)
	var cpu cpuSampler
	cpuAt := time.AfterFunc(time.Until(from), func() { cpu.begin(c.Pid) })
	defer cpuAt.Stop()

	p := &publisher{gw: gw, batch: c.Batch, pad: strings.Repeat("x", max(0, c.Size-48)), from: from, end: end}
	runCtx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()
	if c.Rate > 0 {
		res.Late, res.MaxPublishing = p.runRate(runCtx, start, c.Rate/float64(c.Batch))
	} else {
		p.runWindow(runCtx, c.Conc, c.Window, func() int64 { return t.total.Load() / int64(c.Fanout) })
	}
	published := time.Now()
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
	ok := p.acked.snapshot()
	var want int64
	for _, a := range ok {
		if a {
			want++
		}
	}
	want *= int64(c.Fanout)
	last, lastAt := t.uniqueSeen(), time.Now()
	for t.uniqueSeen() < want && time.Since(published) < c.Drain && time.Since(lastAt) < 20*time.Second && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if u := t.uniqueSeen(); u != last {
			last, lastAt = u, time.Now()
		}
	}
	if c.Pid > 0 && gwOK {
		if now, ok := procTicks(gwStat); ok {
			res.GatewayCPUS = float64(now-gwTicks) / clockTicks
			res.CPUPerDeliveryMS = cpuPerDeliveryMS(now-gwTicks, t.uniqueSeen())
		}
	}

	res.Seconds = c.Duration.Seconds()
	res.Published = p.published.Load()
	res.PublishedPerS = float64(p.inWindow.Load()) / res.Seconds
	res.PublishErrs = p.errs.Load()
	res.Samples = p.samples
	t.mu.Lock()
	res.Deliveries = t.inWindow
	res.Rejected = t.rejected
	res.Samples = append(res.Samples, t.samples...)
	res.Unique = t.unique
	drain := max(0, t.lastAt.Sub(published))
	t.mu.Unlock()
	res.PublishS, res.DrainS = published.Sub(start).Seconds(), drain.Seconds()
	res.E2EPerS = endToEndRate(res.Unique, published.Sub(start), drain)
	res.DeliveriesPS = float64(res.Deliveries) / res.Seconds
	res.EventsPerS = res.DeliveriesPS / float64(c.Fanout)
	res.latencyMS = newLatency(t.latencies())
	res.Expected = want
	res.Missing, res.Duplicates = t.check(ok)
	if res.Raw != nil {
		res.Ratio = ratio(res.DeliveriesPS, res.Raw.RequestsPS)
		res.E2ERatio = ratio(res.E2EPerS, res.Raw.RequestsPS)
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
