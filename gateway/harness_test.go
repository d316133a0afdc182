package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// logBuffer collects the gateway's log; it is shown when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// site is a config file and a data directory that successive gateway runs
// share, like one deployment restarted with edited configs.
type site struct {
	tb      testing.TB
	cfgPath string
	dataDir string
	log     *logBuffer
}

func newSite(tb testing.TB) *site {
	tb.Helper()
	s := &site{tb: tb, cfgPath: filepath.Join(tb.TempDir(), "gateway.yaml"), dataDir: tb.TempDir(), log: &logBuffer{}}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("gateway log:\n%s", s.log.String())
		}
	})
	return s
}

// config writes a gateway.yaml with the given webhooks section (YAML, may
// be empty) and loads it the way the CLI does.
func (s *site) config(webhooks string) *config.Config {
	s.tb.Helper()
	body := "server:\n  addr: 127.0.0.1:0\n  shutdown_timeout: 10s\n" +
		"storage:\n  path: " + s.dataDir + "\n" +
		"log:\n  level: debug\n" + webhooks
	require.NoError(s.tb, os.WriteFile(s.cfgPath, []byte(body), 0o600))
	cfg, err := config.Load(config.LoadOptions{File: s.cfgPath, FileRequired: true, Env: []string{}})
	require.NoError(s.tb, err)
	return cfg
}

// running is one Run of a gateway.
type running struct {
	g      *Gateway
	base   string // http://host:port
	cancel context.CancelFunc
	done   chan error
}

// start runs a gateway for cfg on a fresh loopback listener and waits until
// /readyz answers 200.
func (s *site) start(cfg *config.Config, opts ...Option) *running {
	s.tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(s.tb, err)
	logger := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := New(cfg, append([]Option{WithListener(ln), WithLogger(logger)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{g: g, base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- g.Run(ctx) }()
	s.tb.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(require.WaitLimit):
		}
	})
	ready := func() bool {
		select {
		case err := <-r.done:
			s.tb.Fatalf("Run returned early: %v", err)
		default:
		}
		status, _ := r.do(s.tb, http.MethodGet, "/readyz", "", nil)
		return status == http.StatusOK
	}
	if len(cfg.Plugins) == 0 {
		require.Eventually(s.tb, "/readyz to answer 200", ready)
		return r
	}
	deadline := time.Now().Add(pluginStartLimit)
	for !ready() {
		if time.Now().After(deadline) {
			s.tb.Fatal("gave up waiting for /readyz to answer 200 (plugins)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// pluginStartLimit bounds the wait for /readyz when the config has plugins,
// a hang guard, not a timing expectation. They are built from source and
// compiled at start: wazero's compiler under -race takes over 10 s for one
// Go plugin on an idle machine, and parallel tests on a busy one took over
// 3 minutes for three. It stays below go test's default 10-minute timeout,
// so that a hang is reported as one.
const pluginStartLimit = 8 * time.Minute

// stop cancels Run's context and returns what Run returned.
func (r *running) stop(tb testing.TB) error {
	tb.Helper()
	r.cancel()
	err := require.Receive(tb, r.done, "Run to return after its context ended")
	r.done <- err // for the cleanup
	return err
}

var client = &http.Client{Timeout: require.WaitLimit}

// do sends a request with a JSON body (if any) and decodes a JSON answer
// into out (if not nil). It returns the status; a transport error is
// returned as status 0 with the error.
func (r *running) do(tb testing.TB, method, path, body string, out any) (int, error) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	require.NoError(tb, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, errors.New("decode " + string(raw) + ": " + err.Error())
		}
	}
	return resp.StatusCode, nil
}

// mustDo is do that fails the test unless the status is want.
func (r *running) mustDo(tb testing.TB, method, path, body string, want int, out any) {
	tb.Helper()
	var raw json.RawMessage
	status, err := r.do(tb, method, path, body, &raw)
	require.NoError(tb, err)
	if status != want {
		tb.Fatalf("%s %s: want status %d, got %d: %s", method, path, want, status, raw)
	}
	if out != nil {
		require.NoError(tb, json.Unmarshal(raw, out))
	}
}

// receipt is the answer to a publish.
type receipt struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func (r *running) publish(tb testing.TB, typ, data string) receipt {
	tb.Helper()
	var rc receipt
	r.mustDo(tb, http.MethodPost, "/v1/events", `{"type":"`+typ+`","data":`+data+`}`, http.StatusAccepted, &rc)
	return rc
}

// webhookView is the API view of a webhook, reduced to what tests check.
type webhookView struct {
	ID             string   `json:"id"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"event_types"`
	Enabled        bool     `json:"enabled"`
	DisabledReason string   `json:"disabled_reason"`
	ManagedBy      string   `json:"managed_by"`
	Secret         string   `json:"secret"`
	SecretHint     string   `json:"secret_hint"`
	PublicKey      string   `json:"public_key"`
}

func (r *running) webhook(tb testing.TB, id string) webhookView {
	tb.Helper()
	var v webhookView
	r.mustDo(tb, http.MethodGet, "/v1/webhooks/"+id, "", http.StatusOK, &v)
	return v
}
