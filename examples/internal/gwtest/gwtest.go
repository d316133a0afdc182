// Package gwtest starts a real gateway in-process for the examples' tests:
// a config loaded with config.Load from a YAML file in a temp dir (with a
// generous call deadline for every plugin), a loopback listener, and a
// bounded wait for /readyz. It is test support for examples/ only; its
// functions are safe for concurrent use.
package gwtest

import (
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/eventgw/gateway/gateway"
	"github.com/eventgw/gateway/gateway/config"
)

// WaitLimit bounds every wait: a hang guard, not a timing expectation.
const WaitLimit = time.Minute

// ReadyLimit bounds the wait for /readyz. Plugins given by source: are
// built with the Go toolchain and compiled by wazero at start, which takes
// minutes under -race on a busy machine. It stays below go test's default
// 10-minute timeout, so that a hang is reported as one.
const ReadyLimit = 8 * time.Minute

// pluginTimeout replaces every plugin's limits.timeout in the configs the
// tests start, with the most the config allows: the tests check what the
// plugins decide, not how fast, and the 50 ms default (or an example's own
// setting) fails a call that a busy machine stalls.
const pluginTimeout = config.MaxPluginTimeout

// Client is the HTTP client the tests use.
var Client = &http.Client{Timeout: WaitLimit}

// Buffer is a goroutine-safe bytes.Buffer.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Gateway is a running gateway.
type Gateway struct {
	URL string // http://127.0.0.1:port
	Log *Buffer
}

// Start writes yaml (the sections after server and storage) to a temp
// gateway.yaml, loads it, runs the gateway on a loopback listener until the
// test ends, and waits for /readyz to answer 200.
func Start(tb testing.TB, yaml string) *Gateway {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "gateway.yaml")
	body := "server:\n  addr: 127.0.0.1:0\n  shutdown_timeout: 5s\n" +
		"storage:\n  path: " + filepath.Join(dir, "data") + "\n" + yaml
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startFile(tb, path, nil)
}

// StartFile runs the gateway for an example's own config file (after
// edit, if not nil, rewrites its text: to point it at a test's receivers,
// say) with storage.path set to a temp dir, and waits for /readyz.
func StartFile(tb testing.TB, file string, edit func(yaml string) string) *Gateway {
	tb.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	body := string(raw)
	if edit != nil {
		body = edit(body)
	}
	path := filepath.Join(tb.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return startFile(tb, path, []string{"GATEWAY_STORAGE__PATH=" + filepath.Join(tb.TempDir(), "data")})
}

func startFile(tb testing.TB, path string, env []string) *Gateway {
	tb.Helper()
	if env == nil {
		env = []string{}
	}
	cfg, err := config.Load(config.LoadOptions{File: path, FileRequired: true, Env: env})
	if err != nil {
		body, _ := os.ReadFile(path)
		tb.Fatalf("load config:\n%s\n%v", body, err)
	}
	for i := range cfg.Plugins {
		cfg.Plugins[i].Limits.Timeout = pluginTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := &Gateway{URL: "http://" + ln.Addr().String(), Log: &Buffer{}}
	logger := slog.New(slog.NewTextHandler(g.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gateway.New(cfg, gateway.WithListener(ln), gateway.WithLogger(logger)).Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(WaitLimit):
			tb.Error("the gateway did not stop")
		}
		if tb.Failed() {
			tb.Logf("gateway log:\n%s", g.Log.String())
		}
	})
	deadline := time.Now().Add(ReadyLimit)
	for {
		select {
		case err := <-done:
			done <- err
			tb.Fatalf("the gateway stopped before it was ready: %v\n%s", err, g.Log.String())
		default:
		}
		if resp, err := Client.Get(g.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for /readyz\n%s", g.Log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Do sends a request with a JSON body (if any), fails the test unless the
// answer has status want, and decodes the JSON answer into out (if not nil).
func Do(tb testing.TB, method, url, body string, want int, out any) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: want status %d, got %d: %s", method, url, want, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, url, raw, err)
		}
	}
}

// Eventually polls cond every 10ms until it holds, and fails the test if it
// does not within WaitLimit.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(WaitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
