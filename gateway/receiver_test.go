package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// hit is one request a receiver got.
type hit struct {
	At     time.Time // when the handler started
	Header http.Header
	Body   []byte
	ID     string // webhook-id
	// Nth counts the requests with this webhook-id, this one included.
	Nth int
}

// receiver is a webhook endpoint whose answers a test scripts. It records
// every request and tracks how many are being handled at once.
type receiver struct {
	srv *httptest.Server
	URL string

	// respond answers a request; nil answers 200. It may sleep, but should
	// return when the request's context ends.
	respond atomic.Pointer[func(w http.ResponseWriter, r *http.Request, h hit)]

	mu   sync.Mutex
	hits []hit
	byID map[string]int

	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func newReceiver(tb testing.TB, respond func(w http.ResponseWriter, r *http.Request, h hit)) *receiver {
	tb.Helper()
	rc := &receiver{byID: make(map[string]int)}
	rc.script(respond)
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	rc.URL = rc.srv.URL
	tb.Cleanup(rc.srv.Close)
	return rc
}

// script replaces the receiver's behaviour.
func (rc *receiver) script(respond func(w http.ResponseWriter, r *http.Request, h hit)) {
	rc.respond.Store(&respond)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	n := rc.inFlight.Add(1)
	defer rc.inFlight.Add(-1)
	for {
		m := rc.maxInFlight.Load()
		if n <= m || rc.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	h := hit{At: time.Now(), Header: r.Header.Clone(), Body: body, ID: r.Header.Get("webhook-id")}
	rc.mu.Lock()
	rc.byID[h.ID]++
	h.Nth = rc.byID[h.ID]
	rc.hits = append(rc.hits, h)
	rc.mu.Unlock()
	if f := *rc.respond.Load(); f != nil {
		f(w, r, h)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// all returns a copy of the requests so far, in arrival order.
func (rc *receiver) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

// of returns the requests carrying webhook-id id.
func (rc *receiver) of(id string) []hit {
	var out []hit
	for _, h := range rc.all() {
		if h.ID == id {
			out = append(out, h)
		}
	}
	return out
}

// waitCount waits until the receiver has had at least n requests.
func (rc *receiver) waitCount(tb testing.TB, n int) []hit {
	tb.Helper()
	require.Eventually(tb, fmt.Sprintf("the receiver to get %d requests", n), func() bool { return rc.count() >= n })
	return rc.all()
}

// ids returns the distinct webhook-ids received, in order of first arrival.
func (rc *receiver) ids() []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range rc.all() {
		if !seen[h.ID] {
			seen[h.ID] = true
			out = append(out, h.ID)
		}
	}
	return out
}

// status answers with a fixed status code.
func status(code int) func(w http.ResponseWriter, r *http.Request, h hit) {
	return func(w http.ResponseWriter, _ *http.Request, _ hit) { w.WriteHeader(code) }
}

// sleepCtx waits for d or until r's context ends.
func sleepCtx(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// deliveryConfig is the delivery section the end-to-end tests run with:
// loopback allowed, short retry schedules, and an attempt timeout long
// enough that a busy machine never turns a healthy attempt into a failed
// one (only TestDelivery_timeout is about it). extra lines (each indented
// by two spaces) override or add keys.
func deliveryConfig(extra ...string) string {
	lines := map[string]string{
		"workers":        "workers: 16",
		"timeout":        "timeout: 30s",
		"retry_schedule": "retry_schedule: [50ms, 100ms]",
		"allowed_cidrs":  "allowed_cidrs: [127.0.0.0/8]",
		"shutdown_grace": "shutdown_grace: 2s",
	}
	order := []string{"workers", "timeout", "retry_schedule", "allowed_cidrs", "shutdown_grace"}
	for _, e := range extra {
		k, _, _ := strings.Cut(e, ":")
		if _, ok := lines[k]; !ok {
			order = append(order, k)
		}
		lines[k] = e
	}
	var b strings.Builder
	b.WriteString("delivery:\n")
	for _, k := range order {
		b.WriteString("  " + lines[k] + "\n")
	}
	return b.String()
}

// deliveryConfig loads a config with the given delivery section.
func (s *site) deliveryConfig(extra ...string) *config.Config {
	s.tb.Helper()
	return s.config(deliveryConfig(extra...))
}

// createHook registers a webhook; fields is extra JSON members, e.g.
// `"ordered": true` (may be empty).
func (r *running) createHook(tb testing.TB, url string, types []string, fields string) webhookView {
	tb.Helper()
	ts, err := json.Marshal(types)
	require.NoError(tb, err)
	body := `{"url":` + quote(url) + `,"event_types":` + string(ts)
	if fields != "" {
		body += "," + fields
	}
	body += "}"
	var v webhookView
	r.mustDo(tb, http.MethodPost, "/v1/webhooks", body, http.StatusCreated, &v)
	return v
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// attemptView is one entry of a delivery's attempt_log.
type attemptView struct {
	N          int               `json:"attempt"`
	StartedAt  time.Time         `json:"started_at"`
	StatusCode int               `json:"status_code"`
	Headers    map[string]string `json:"response_headers"`
	Body       string            `json:"response_body"`
	Error      string            `json:"error"`
}

// deliveryView is the API view of a delivery.
type deliveryView struct {
	ID         string        `json:"id"`
	EventID    string        `json:"event_id"`
	WebhookID  string        `json:"webhook_id"`
	Status     string        `json:"status"`
	Attempts   int           `json:"attempts"`
	LastStatus int           `json:"last_status_code"`
	LastError  string        `json:"last_error"`
	Note       string        `json:"note"`
	AttemptLog []attemptView `json:"attempt_log"`
}

// delivery returns the delivery of event eventID to webhook whID, with its
// attempts; ok is false if there is none.
func (r *running) delivery(tb testing.TB, eventID, whID string) (deliveryView, bool) {
	tb.Helper()
	var page struct {
		Data []deliveryView `json:"data"`
	}
	r.mustDo(tb, http.MethodGet, "/v1/events/"+eventID+"/deliveries?webhook_id="+whID, "", http.StatusOK, &page)
	if len(page.Data) == 0 {
		return deliveryView{}, false
	}
	var d deliveryView
	r.mustDo(tb, http.MethodGet, "/v1/deliveries/"+page.Data[0].ID, "", http.StatusOK, &d)
	return d, true
}

// waitDelivery waits until the delivery of eventID to whID has status want
// and returns it.
func (r *running) waitDelivery(tb testing.TB, eventID, whID, want string) deliveryView {
	tb.Helper()
	var d deliveryView
	require.Eventually(tb, fmt.Sprintf("the delivery of %s to %s to be %s", eventID, whID, want), func() bool {
		var ok bool
		d, ok = r.delivery(tb, eventID, whID)
		return ok && d.Status == want
	})
	return d
}

// deliveries lists the deliveries of a webhook (newest event first),
// optionally with one status.
func (r *running) deliveries(tb testing.TB, whID, status string) []deliveryView {
	tb.Helper()
	path := "/v1/deliveries?limit=200&webhook_id=" + whID
	if status != "" {
		path += "&status=" + status
	}
	var page struct {
		Data []deliveryView `json:"data"`
	}
	r.mustDo(tb, http.MethodGet, path, "", http.StatusOK, &page)
	return page.Data
}

// publishN publishes n events of type typ, with data {"n": i}, and returns
// their ids in publish order.
func (r *running) publishN(tb testing.TB, typ string, n int) []string {
	tb.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = r.publish(tb, typ, fmt.Sprintf(`{"n":%d}`, i)).ID
	}
	return ids
}
