package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// The harness is the real thing over loopback: a Badger store on a temp dir
// with Sync on, a started bus, the API, and httptest.NewServer in front.

// API keys of the default harness.
const (
	keyBoth    = "test-key-both-0123456789abcdef"
	keyPublish = "test-key-publish-0123456789abcdef"
	keyAdmin   = "test-key-admin-0123456789abcdef"
	keyNoScope = "test-key-noscope-0123456789abcdef"
)

// maxBody is the harness's server.max_body_bytes.
const maxBody = 64 << 10

// t0 is where the harness clock starts.
var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func defaultKeys() []httpapi.Key {
	return []httpapi.Key{
		{Name: "both", Secret: keyBoth, Scopes: []string{"publish", "admin"}},
		{Name: "publisher", Secret: keyPublish, Scopes: []string{"publish"}},
		{Name: "admin", Secret: keyAdmin, Scopes: []string{"admin"}},
		{Name: "noscope", Secret: keyNoScope},
	}
}

type harness struct {
	tb    testing.TB
	srv   *httptest.Server
	st    *store.Store
	bus   *bus.Bus
	clock *clock
}

type harnessConfig struct {
	keys  []httpapi.Key
	subs  []bus.Subscription
	ready func() bool
	// plugins serves /v1/plugins, with maxModule as the module cap.
	plugins   *fakePlugins
	maxModule int64
	audit     *audit.Log
	// maxJSONDepth is ingest.max_json_depth (0: the default).
	maxJSONDepth int
	// pendingBytes is ingest.max_pending_bytes; wrapAppender, if set,
	// wraps the store as the API's Appender.
	pendingBytes int64
	wrapAppender func(httpapi.Appender) httpapi.Appender
}

type harnessOption func(*harnessConfig)

// withKeys replaces the default keys; no keys means no authentication.
func withKeys(keys ...httpapi.Key) harnessOption {
	return func(c *harnessConfig) { c.keys = keys }
}

// withSubscription adds a bus subscription before the bus starts.
func withSubscription(s bus.Subscription) harnessOption {
	return func(c *harnessConfig) { c.subs = append(c.subs, s) }
}

func withReady(ready func() bool) harnessOption {
	return func(c *harnessConfig) { c.ready = ready }
}

func newHarness(tb testing.TB, opts ...harnessOption) *harness {
	tb.Helper()
	cfg := harnessConfig{keys: defaultKeys()}
	for _, o := range opts {
		o(&cfg)
	}
	logger := slog.New(slog.DiscardHandler)
	clk := &clock{}
	clk.Set(t0)
	var b *bus.Bus
	st, err := store.Open(store.Options{
		Path:     tb.TempDir(),
		Sync:     true,
		Logger:   logger,
		Now:      clk.Now,
		OnCommit: func() { b.Notify() },
	})
	require.NoError(tb, err)
	b = bus.New(st, logger)
	for _, s := range cfg.subs {
		require.NoError(tb, b.Subscribe(s))
	}
	require.NoError(tb, b.Start(context.Background()))
	apiOpts := httpapi.Options{
		Appender:       st,
		Events:         st,
		Webhooks:       st,
		Progress:       b,
		Ready:          cfg.ready,
		Keys:           cfg.keys,
		MaxBodyBytes:   maxBody,
		MaxBatchEvents: 1000,
		MaxModuleBytes: cfg.maxModule,
		Backup:         st,
		MaxJSONDepth:   cfg.maxJSONDepth,
		Version:        "test",
		Logger:         logger,
		Audit:          cfg.audit,
	}
	apiOpts.MaxPendingBytes = cfg.pendingBytes
	if cfg.wrapAppender != nil {
		apiOpts.Appender = cfg.wrapAppender(st)
	}
	if cfg.plugins != nil {
		apiOpts.Plugins, apiOpts.PluginRunner = cfg.plugins, cfg.plugins
	}
	srv := httptest.NewServer(httpapi.New(apiOpts))
	tb.Cleanup(func() {
		srv.Close()
		b.Close()
		if err := st.Close(); err != nil {
			tb.Errorf("closing the store: %v", err)
		}
	})
	return &harness{tb: tb, srv: srv, st: st, bus: b, clock: clk}
}

// clock is the store's clock; tests move it to place events in time.
type clock struct{ now atomic.Pointer[time.Time] }

func (c *clock) Now() time.Time  { return *c.now.Load() }
func (c *clock) Set(t time.Time) { c.now.Store(&t) }

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. hdr holds name, value pairs. Authorization defaults
// to the key with both scopes; an empty value removes a header.
func (h *harness) do(method, path, body string, hdr ...string) response {
	h.tb.Helper()
	r, err := h.send(method, path, body, hdr...)
	require.NoError(h.tb, err)
	return r
}

// send is do for goroutines other than the test's: it reports failure as
// an error instead of failing the test.
func (h *harness) send(method, path, body string, hdr ...string) (response, error) {
	if len(hdr)%2 != 0 {
		return response{}, fmt.Errorf("send: odd number of header arguments: %q", hdr)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Authorization", "Bearer "+keyBoth)
	for i := 0; i < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: res.StatusCode, header: res.Header, body: b}, nil
}

func (h *harness) get(path string, hdr ...string) response {
	h.tb.Helper()
	return h.do(http.MethodGet, path, "", hdr...)
}

// postJSON sends body as application/json unless hdr sets Content-Type.
func (h *harness) postJSON(path, body string, hdr ...string) response {
	h.tb.Helper()
	return h.do(http.MethodPost, path, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
}

// publish posts one plain JSON event and requires a 202.
func (h *harness) publish(body string, hdr ...string) receiptJSON {
	h.tb.Helper()
	r := h.postJSON("/v1/events", body, hdr...)
	requireStatus(h.tb, r, http.StatusAccepted)
	return decodeStrict[receiptJSON](h.tb, r)
}

// event fetches one event by id and requires a 200.
func (h *harness) event(id string) eventJSON {
	h.tb.Helper()
	r := h.get("/v1/events/" + url.PathEscape(id))
	requireStatus(h.tb, r, http.StatusOK)
	return decodeStrict[eventJSON](h.tb, r)
}

// allEvents walks every page of GET /v1/events?query and returns the ids,
// newest first. Pages are as large as allowed unless query sets limit.
func (h *harness) allEvents(query string) []string {
	h.tb.Helper()
	if !strings.Contains(query, "limit=") {
		query += "&limit=1000"
	}
	var ids []string
	for _, p := range getPages[eventJSON](h.tb, h, "/v1/events?"+query, 1000) {
		for _, ev := range p {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

// getPages GETs path, whose query is not empty, and then each next page,
// following next_cursor, and returns the items of every page. Each answer
// must be a 200. It fails the test if page maxPages still has a next page.
func getPages[T any](tb testing.TB, h *harness, path string, maxPages int) [][]T {
	tb.Helper()
	var pages [][]T
	cursor := ""
	for {
		q := path
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.get(q)
		requireStatus(tb, r, http.StatusOK)
		p := decodeStrict[page[T]](tb, r)
		pages = append(pages, p.Data)
		if p.NextCursor == "" {
			return pages
		}
		require.True(tb, len(pages) < maxPages, "%s has more than %d pages", path, maxPages)
		cursor = p.NextCursor
	}
}

// refusal is a request the API must refuse with status and an error
// envelope of code and field (see requireAPIError).
type refusal struct {
	name   string
	hdr    []string // name, value pairs; Content-Type defaults to application/json
	body   string
	status int
	code   string
	field  string
}

// requireRefusals posts each request to path, each in a subtest, and checks
// the error it gets.
func (h *harness) requireRefusals(t *testing.T, path string, tests []refusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireAPIError(t, h.postJSON(path, tc.body, tc.hdr...), tc.status, tc.code, tc.field)
		})
	}
}

// Response shapes. decodeStrict refuses unknown fields, so a field the API
// starts sending without a test noticing fails here.

type receiptJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Time string `json:"time"`
}

// batchReceiptJSON is one item of a batch answer; Replayed tells the items
// of a partly replayed batch apart.
type batchReceiptJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Time     string `json:"time"`
	Replayed bool   `json:"replayed"`
}

type eventJSON struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source"`
	Time   time.Time       `json:"time"`
	Data   json.RawMessage `json:"data"`
	Status string          `json:"status"`
	// CloudEvent is checked by the CloudEvents tests.
	CloudEvent json.RawMessage `json:"cloudevent"`
}

type webhookJSON struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	EventTypes  []string          `json:"event_types"`
	Description string            `json:"description"`
	Headers     map[string]string `json:"headers"`
	Enabled     bool              `json:"enabled"`
	Secret      string            `json:"secret"`
	SecretHint  string            `json:"secret_hint"`
	ManagedBy   string            `json:"managed_by"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

type page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func decodeStrict[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	require.Equal(tb, "application/json", r.header.Get("Content-Type"))
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		tb.Fatalf("decoding %T from %s: %v", v, r.body, err)
	}
	return v
}

func requireIDs(tb testing.TB, want, got []string) {
	tb.Helper()
	if strings.Join(want, ",") != strings.Join(got, ",") {
		tb.Fatalf("ids differ\nwant %q\ngot  %q", want, got)
	}
}

func requireJSONEqual(tb testing.TB, want string, got []byte) {
	tb.Helper()
	var w, g bytes.Buffer
	require.NoError(tb, json.Compact(&w, []byte(want)))
	if err := json.Compact(&g, got); err != nil {
		tb.Fatalf("not JSON: %s: %v", got, err)
	}
	require.Equal(tb, w.String(), g.String())
}

func requireStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("want status %d, got %d: %s", want, r.status, r.body)
	}
}

// requireAPIError checks status and the error envelope, exactly:
// {"error":{"code","message","field"?,"details"?}}. An empty field means the
// envelope must not have one.
func requireAPIError(tb testing.TB, r response, status int, code, field string) {
	tb.Helper()
	requireStatus(tb, r, status)
	require.Equal(tb, "application/json", r.header.Get("Content-Type"))
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &env); err != nil {
		tb.Fatalf("error body is not a JSON object: %s", r.body)
	}
	if len(env) != 1 || env["error"] == nil {
		tb.Fatalf("error body must be exactly {\"error\":{...}}, got %s", r.body)
	}
	var e map[string]any
	if err := json.Unmarshal(env["error"], &e); err != nil {
		tb.Fatalf("error member is not an object: %s", r.body)
	}
	for k := range e {
		switch k {
		case "code", "message", "field", "details":
		default:
			tb.Fatalf("unexpected member %q in error: %s", k, r.body)
		}
	}
	if got, _ := e["code"].(string); got != code {
		tb.Fatalf("want code %q, got %q: %s", code, got, r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		tb.Fatalf("error without a message: %s", r.body)
	}
	got, has := e["field"].(string)
	switch {
	case field == "" && has:
		tb.Fatalf("want no field, got %q: %s", got, r.body)
	case field != "" && got != field:
		tb.Fatalf("want field %q, got %q: %s", field, got, r.body)
	}
}
