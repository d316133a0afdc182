package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gwconfig "github.com/eventgw/gateway/gateway/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway-load:", err)
		}
		os.Exit(1)
	}
}

// config is everything the flags set.
type config struct {
	URL      string
	Conc     int
	Duration time.Duration
	Warmup   time.Duration
	Wait     time.Duration
	Mode     string
	Batch    int
	Size     int
	Key      string
	JSON     bool
	Bare     string

	// Delivery modes (-mode deliver and -mode pending).
	Fanout      int
	MaxInFlight int
	Rate        float64
	Window      int
	RawConc     int
	Recv        string
	Pid         int
	Drain       time.Duration
	Events      int
	Slow        time.Duration
	Settle      time.Duration
	// Decoys is how many webhooks that match nothing -mode deliver
	// registers before it measures.
	Decoys int
	// Retry is the retry_schedule each registered webhook gets; nil: the
	// gateway's.
	Retry []string

	// Pending mode starts the gateway itself when GW is set: GW serve
	// --config GWConfig --data GWData --addr <the host:port of URL>,
	// stderr to GWLog.
	GW       string
	GWConfig string
	GWData   string
	GWLog    string

	// Memory (-mode single and batch): a hanging webhook, and the
	// gateway's pid (Pid) to sample its RSS.
	Hang string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gateway-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the gateway (or of a bare handler)")
	fs.IntVar(&c.Conc, "c", 64, "concurrent workers, one keep-alive connection each (deliver with -rate: idle connections kept)")
	fs.DurationVar(&c.Duration, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "unmeasured warm-up before -d")
	fs.DurationVar(&c.Wait, "wait", 0, "first poll GET /readyz for up to this long until it answers 2xx")
	fs.StringVar(&c.Mode, "mode", "single", "single (POST /v1/events), batch (POST /v1/events/batch), deliver (end-to-end webhook delivery) or pending (memory with undeliverable deliveries)")
	fs.IntVar(&c.Batch, "batch", 100, "events per request in -mode batch, deliver and pending (1: POST /v1/events)")
	fs.IntVar(&c.Size, "size", 200, "approximate bytes of JSON data per event")
	fs.StringVar(&c.Key, "key", "", "API key, sent as Authorization: Bearer <key>")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON")
	fs.StringVar(&c.Bare, "bare", "", "instead of generating load, serve the bare comparison handler on this host:port")
	fs.IntVar(&c.Fanout, "fanout", 1, "deliver, pending: webhooks registered, each taking every event")
	fs.IntVar(&c.MaxInFlight, "max-in-flight", 0, "deliver, pending: max_in_flight of each webhook (0: the gateway's default)")
	fs.Float64Var(&c.Rate, "rate", 0, "deliver: publish this many events/s, from a 1 ms ticker, one goroutine per publish (0: -c publishers as fast as -window allows)")
	fs.IntVar(&c.Window, "window", 5000, "deliver without -rate: most events published but not yet delivered (0: no limit)")
	fs.IntVar(&c.RawConc, "raw-c", 64, "deliver: connections of the raw ceiling run (0: skip it)")
	fs.StringVar(&c.Recv, "recv", "127.0.0.1:0", "deliver, pending: host:port of the webhook receiver")
	fs.IntVar(&c.Pid, "pid", 0, "the gateway's pid: deliver, pending report its CPU and memory from /proc; single, batch its peak VmRSS and VmHWM")
	fs.DurationVar(&c.Drain, "drain", 2*time.Minute, "deliver: longest wait for the backlog after -d")
	fs.IntVar(&c.Events, "n", 100000, "pending: events to publish")
	fs.DurationVar(&c.Slow, "slow", 2*time.Second, "pending: how long the receiver waits before each 503")
	fs.StringVar(&c.Hang, "hang", "", "single, batch: register one webhook taking every event whose receiver, served on this host:port, never answers; pending: the webhooks' receiver is that one")
	fs.DurationVar(&c.Settle, "settle", 5*time.Second, "pending: wait between the two memory readings (and, with -gw, after the restart)")
	fs.IntVar(&c.Decoys, "decoys", 0, "deliver: first register this many webhooks whose patterns match nothing published")
	retry := fs.String("retry-schedule", "", "deliver, pending: the webhooks' retry_schedule, comma-separated durations (\"1h\"; \"none\": no retries; empty: the gateway's)")
	fs.StringVar(&c.GW, "gw", "", "pending: start the gateway binary itself, then SIGKILL and restart it to time the recovery")
	fs.StringVar(&c.GWConfig, "config", "", "pending with -gw: the gateway's --config")
	fs.StringVar(&c.GWData, "data", "", "pending with -gw: the gateway's --data directory (empty: a temporary one, removed at the end)")
	fs.StringVar(&c.GWLog, "gw-log", "", "pending with -gw: append the gateway's stderr to this file (empty: discard it)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var problems []string
	if c.Conc < 1 {
		problems = append(problems, "-c must be at least 1")
	}
	if c.Duration <= 0 {
		problems = append(problems, "-d must be positive")
	}
	if c.Warmup < 0 || c.Wait < 0 {
		problems = append(problems, "-warmup and -wait must not be negative")
	}
	switch c.Mode {
	case "single", "batch", "deliver", "pending":
	default:
		problems = append(problems, fmt.Sprintf("-mode must be single, batch, deliver or pending, not %q", c.Mode))
	}
	if c.Fanout < 1 || c.MaxInFlight < 0 || c.Window < 0 || c.RawConc < 0 || c.Events < 1 || c.Decoys < 0 {
		problems = append(problems, "-fanout and -n must be at least 1; -max-in-flight, -window, -raw-c and -decoys must not be negative")
	}
	var err error
	if c.Retry, err = parseRetry(*retry); err != nil {
		problems = append(problems, err.Error())
	}
	if c.GW != "" && c.Mode != "pending" {
		problems = append(problems, "-gw works with -mode pending only")
	}
	if c.GW != "" && c.GWConfig == "" {
		problems = append(problems, "-gw needs -config")
	}
	if c.Rate < 0 || c.Drain < 0 || c.Slow < 0 || c.Settle < 0 {
		problems = append(problems, "-rate, -drain, -slow and -settle must not be negative")
	}
	if c.Batch < 1 {
		problems = append(problems, "-batch must be at least 1")
	}
	if c.Size < 0 {
		problems = append(problems, "-size must not be negative")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "; "))
	}
	c.URL = strings.TrimRight(c.URL, "/")
	return c, nil
}

func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if c.Bare != "" {
		return serveBare(ctx, c.Bare, stderr)
	}
	if c.Wait > 0 && c.GW == "" { // a gateway the tool starts is waited for anyway
		if err := waitReady(ctx, c.URL+"/readyz", c.Wait, nil); err != nil {
			return err
		}
	}
	var res interface{ writeText(io.Writer) }
	switch c.Mode {
	case "deliver":
		res, err = runDeliver(ctx, c)
	case "pending":
		res, err = runPending(ctx, c)
	default:
		res, err = run(ctx, c)
	}
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.writeText(stdout)
	return nil
}

// parseRetry parses -retry-schedule: comma-separated durations, "none" for
// an empty schedule (no retries), or nothing for the gateway's (nil).
func parseRetry(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "none":
		return []string{}, nil
	}
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if d, err := time.ParseDuration(f); err != nil || d <= 0 {
			return nil, fmt.Errorf("-retry-schedule: %q is not a positive duration", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// bareReply is about the size of the gateway's receipt for one event.
var bareReply = []byte(`{"id":"evt_00000000000000000000000000","type":"load.test","time":"2026-01-01T00:00:00.000000000Z"}` + "\n")

// bareHandler reads the whole body and answers 202: the least any ingest
// endpoint has to do.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(bareReply)
	})
}

// serveBare serves bareHandler on addr until ctx ends.
func serveBare(ctx context.Context, addr string, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The gateway's default server timeouts, so that both servers pay for
	// the same deadlines.
	def := gwconfig.Defaults().Server
	srv := &http.Server{
		Handler:           bareHandler(),
		ReadHeaderTimeout: def.ReadHeaderTimeout,
		ReadTimeout:       def.ReadTimeout,
		WriteTimeout:      def.WriteTimeout,
		IdleTimeout:       def.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stderr, "gateway-load: bare handler listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// waitReady polls url every 10 ms until it answers 2xx or limit passes, or,
// if exited is not nil, until it is closed.
func waitReady(ctx context.Context, url string, limit time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %s", url, limit, last)
		case <-exited:
			return fmt.Errorf("%s: %w before it was ready", url, errExited)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// maxSamples is how many error bodies a run keeps.
const maxSamples = 5

// result is what one run measured. Latencies are in milliseconds.
type result struct {
	Target       string  `json:"target"`
	Mode         string  `json:"mode"`
	Connections  int     `json:"connections"`
	EventsPerReq int     `json:"events_per_request"`
	DataBytes    int     `json:"data_bytes_per_event"`
	Seconds      float64 `json:"seconds"`
	Requests     int64   `json:"requests"`
	Events       int64   `json:"events"`
	RequestsPerS float64 `json:"requests_per_second"`
	EventsPerS   float64 `json:"events_per_second"`
	P50          float64 `json:"latency_p50_ms"`
	P90          float64 `json:"latency_p90_ms"`
	P99          float64 `json:"latency_p99_ms"`
	Max          float64 `json:"latency_max_ms"`
	Non2xx       int64   `json:"non_2xx"`
	// Overloaded counts 503 answers with Retry-After, which the worker
	// waited out before its next request (part of Non2xx).
	Overloaded int64    `json:"overloaded_503"`
	Memory     *procMem `json:"gateway_memory_peak,omitempty"`
	Errors     int64    `json:"errors"`
	Samples    []string `json:"error_samples,omitempty"`
}

func (r *result) writeText(w io.Writer) {
	fmt.Fprintf(w, "target        %s (%s, %d events/request, ~%d B data/event)\n", r.Target, r.Mode, r.EventsPerReq, r.DataBytes)
	fmt.Fprintf(w, "connections   %d\n", r.Connections)
	fmt.Fprintf(w, "measured      %.2fs\n", r.Seconds)
	fmt.Fprintf(w, "requests      %d\n", r.Requests)
	fmt.Fprintf(w, "requests/s    %.0f\n", r.RequestsPerS)
	fmt.Fprintf(w, "events/s      %.0f\n", r.EventsPerS)
	fmt.Fprintf(w, "latency ms    p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", r.P50, r.P90, r.P99, r.Max)
	fmt.Fprintf(w, "non-2xx       %d\n", r.Non2xx)
	fmt.Fprintf(w, "overloaded    %d (503 with Retry-After, waited out)\n", r.Overloaded)
	fmt.Fprintf(w, "errors        %d\n", r.Errors)
	if r.Memory != nil {
		fmt.Fprintf(w, "gateway peak  %s\n", r.Memory)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(w, "  sample: %s\n", s)
	}
}

// worker is one client loop. Its counters are only touched by its own
// goroutine until run collects them.
type worker struct {
	id      int
	n       int64
	buf     bytes.Buffer
	lat     []time.Duration
	ok      int64
	non2xx  int64
	over    int64
	errs    int64
	samples []string
}

// run generates load as c describes and measures it.
func run(ctx context.Context, c config) (*result, error) {
	path := "/v1/events"
	perReq := 1
	if c.Mode == "batch" {
		path, perReq = "/v1/events/batch", c.Batch
	}
	target := c.URL + path
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        c.Conc,
		MaxIdleConnsPerHost: c.Conc,
		MaxConnsPerHost:     c.Conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	pad := strings.Repeat("x", max(0, c.Size-64))
	if c.Hang != "" {
		hangURL, err := startHang(ctx, c.Hang)
		if err != nil {
			return nil, err
		}
		a := &api{base: c.URL, key: c.Key, client: client}
		id, err := a.registerHang(ctx, hangURL)
		if err != nil {
			return nil, err
		}
		defer a.deleteHooks([]string{id})
	}
	var rss *rssSampler
	if c.Pid > 0 {
		rss = sampleRSS(c.Pid)
	}

	var (
		sampleMu sync.Mutex
		samples  []string
	)
	addSample := func(s string) {
		sampleMu.Lock()
		defer sampleMu.Unlock()
		if len(samples) < maxSamples {
			samples = append(samples, s)
		}
	}

	start := time.Now()
	measureFrom := start.Add(c.Warmup)
	end := measureFrom.Add(c.Duration)
	// Requests in flight at end get a grace period to finish (uncounted).
	runCtx, cancel := context.WithDeadline(ctx, end.Add(5*time.Second))
	defer cancel()

	workers := make([]*worker, c.Conc)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{id: i}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil && time.Now().Before(end) {
				// A fresh slice per request: the transport may still hold the
				// last body after Do returns.
				body := bytes.Clone(w.body(c.Mode, perReq, pad))
				req, err := http.NewRequestWithContext(runCtx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					addSample(err.Error())
					w.errs++
					return
				}
				req.Header.Set("Content-Type", "application/json")
				if c.Key != "" {
					req.Header.Set("Authorization", "Bearer "+c.Key)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				var status int
				var errBody []byte
				var wait time.Duration
				if err == nil {
					status = resp.StatusCode
					wait = retryAfter(resp)
					if status/100 == 2 {
						_, err = io.Copy(io.Discard, resp.Body)
					} else {
						errBody, err = io.ReadAll(io.LimitReader(resp.Body, 512))
						_, _ = io.Copy(io.Discard, resp.Body)
					}
					resp.Body.Close()
				}
				t1 := time.Now()
				if runCtx.Err() != nil {
					return // interrupted, or the grace period ran out: not the target's fault
				}
				counted := !t1.Before(measureFrom) && t1.Before(end)
				switch {
				case err != nil:
					addSample(err.Error())
					if counted {
						w.errs++
					}
					// A refused or broken connection fails at once; do not
					// spin on it.
					time.Sleep(10 * time.Millisecond)
				case status/100 != 2:
					addSample(fmt.Sprintf("%d %s", status, bytes.TrimSpace(errBody)))
					if counted {
						w.non2xx++
					}
					if wait > 0 {
						if counted {
							w.over++
						}
						sleepCtx(runCtx, wait)
					}
				case counted:
					w.ok++
					w.lat = append(w.lat, t1.Sub(t0))
				}
			}
		}()
	}
	wg.Wait()
	measured := min(time.Since(measureFrom), c.Duration)
	var peak *procMem
	if rss != nil {
		m := rss.end()
		peak = &m
	}
	if measured <= 0 {
		return nil, fmt.Errorf("interrupted during the warm-up")
	}

	res := &result{
		Target: target, Mode: c.Mode, Connections: c.Conc, EventsPerReq: perReq,
		DataBytes: len(pad) + 64, Seconds: measured.Seconds(), Samples: samples, Memory: peak,
	}
	var lat []time.Duration
	for _, w := range workers {
		res.Requests += w.ok
		res.Non2xx += w.non2xx
		res.Overloaded += w.over
		res.Errors += w.errs
		lat = append(lat, w.lat...)
	}
	res.Events = res.Requests * int64(perReq)
	res.RequestsPerS = float64(res.Requests) / measured.Seconds()
	res.EventsPerS = float64(res.Events) / measured.Seconds()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	res.P50, res.P90, res.P99 = ms(quantile(lat, 0.50)), ms(quantile(lat, 0.90)), ms(quantile(lat, 0.99))
	if len(lat) > 0 {
		res.Max = ms(lat[len(lat)-1])
	}
	return res, nil
}

// quantile returns the q-quantile of sorted (nearest rank), 0 if empty.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// body renders the next request body into w.buf and returns it. Every event
// is unique: worker id, counter and send time.
func (w *worker) body(mode string, n int, pad string) []byte {
	b := &w.buf
	b.Reset()
	if mode == "batch" {
		b.WriteString(`{"events":[`)
	}
	now := time.Now().UnixNano()
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		w.n++
		b.WriteString(`{"type":"load.test","data":{"worker":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(w.id), 10))
		b.WriteString(`,"n":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), w.n, 10))
		b.WriteString(`,"sent_ns":`)
		b.Write(strconv.AppendInt(b.AvailableBuffer(), now, 10))
		b.WriteString(`,"pad":"`)
		b.WriteString(pad)
		b.WriteString(`"}}`)
	}
	if mode == "batch" {
		b.WriteString(`]}`)
	}
	return b.Bytes()
}
