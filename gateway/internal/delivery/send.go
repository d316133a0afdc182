package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// signer produces the webhook-signature header for one message.
type signer interface {
	Sign(msgID string, ts time.Time, body []byte) string
}

// outcome is what one HTTP attempt came to.
type outcome struct {
	started    time.Time
	duration   time.Duration
	status     int
	headers    map[string]string
	body       string
	err        error
	retryAfter time.Duration
}

// Kinds of outcome the scheduler acts on.
func (o outcome) success() bool { return o.err == nil && o.status >= 200 && o.status < 300 }
func (o outcome) gone() bool    { return o.err == nil && o.status == http.StatusGone }

// errorText describes a failed attempt for the delivery record.
func (o outcome) errorText() string {
	switch {
	case o.err != nil:
		return o.err.Error()
	case o.status >= 300 && o.status < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed", o.status)
	case !o.success():
		return fmt.Sprintf("HTTP %d", o.status)
	}
	return ""
}

// maxResponseHeaderBytes caps the response headers a receiver may send.
// Go's default is 10 MB, which with many workers lets hostile receivers
// hold gigabytes; real receivers send a few hundred bytes.
const maxResponseHeaderBytes = 64 << 10

// keptHeaders are the response headers recorded with an attempt.
var keptHeaders = []string{"Content-Type", "Retry-After", "Location", "X-Request-Id"}

// sender performs HTTP attempts. It is safe for concurrent use.
type sender struct {
	client      *http.Client
	userAgent   string
	maxResponse int
	timeout     time.Duration
}

// newSender returns a sender whose client is NewClient's.
func newSender(dial func(ctx context.Context, network, addr string) (net.Conn, error), version string, maxResponse int, timeout time.Duration, workers int) *sender {
	return &sender{
		client:      NewClient(dial, timeout, workers),
		userAgent:   "gateway/" + version,
		maxResponse: maxResponse,
		timeout:     timeout,
	}
}

// NewClient returns the HTTP client deliveries are sent with, sized for
// that many workers. It dials through dial (the egress guard), never
// follows redirects and never uses a proxy from the environment, which
// would bypass the guard. The load tool's raw ceiling uses it too.
func NewClient(dial func(ctx context.Context, network, addr string) (net.Conn, error), timeout time.Duration, workers int) *http.Client {
	tr := &http.Transport{
		DialContext:            dial,
		Proxy:                  nil,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(100, workers),
		MaxIdleConnsPerHost:    max(8, workers),
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// payload renders the Standard Webhooks body {"id","type","timestamp","data"}.
// The data bytes are copied as stored, never re-serialised.
func payload(ev *event.Event) []byte {
	id, _ := json.Marshal(ev.ID)
	typ, _ := json.Marshal(ev.Type)
	b := make([]byte, 0, len(ev.Data)+len(id)+len(typ)+80)
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"type":`...)
	b = append(b, typ...)
	b = append(b, `,"timestamp":"`...)
	b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	b = append(b, ev.Data...)
	return append(b, '}')
}

// send POSTs body to url, signed for msgID, with flags (if any) in
// HeaderFlags, and reads at most maxResponse bytes of the answer.
func (s *sender) send(ctx context.Context, url string, headers map[string]string, msgID string, body []byte, sg signer, flags string) outcome {
	o := outcome{started: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		o.err = fmt.Errorf("building request: %w", err)
		return o
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	SetHeaders(req.Header, msgID, o.started, sg.Sign(msgID, o.started, body))
	if flags != "" {
		req.Header[HeaderFlags] = []string{flags} // lower case, like the webhook-* headers
	}
	resp, err := s.client.Do(req)
	if err != nil {
		o.duration = time.Since(o.started)
		o.err = attemptError(err, s.timeout)
		return o
	}
	defer resp.Body.Close()
	o.status = resp.StatusCode
	o.headers = make(map[string]string)
	for _, h := range keptHeaders {
		if v := resp.Header.Get(h); v != "" {
			o.headers[h] = v
		}
	}
	if s.maxResponse > 0 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, int64(s.maxResponse)))
		o.body = string(b)
	}
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	o.duration = time.Since(o.started)
	if o.status == http.StatusTooManyRequests || o.status == http.StatusServiceUnavailable {
		o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return o
}

func attemptError(err error, timeout time.Duration) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s (delivery.timeout)", timeout)
	}
	if strings.Contains(err.Error(), "server response headers exceeded") {
		// net/http has no sentinel for this.
		return fmt.Errorf("response headers larger than %d KiB; the receiver must send smaller headers", maxResponseHeaderBytes>>10)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
