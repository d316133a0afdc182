package wasmhost

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/sdk/abi"
)

// watCache holds the fixtures compiled in this test run, by name.
var watCache sync.Map // string -> []byte

// wat compiles testdata/<name>.wat (name may be in a subdirectory) with
// wabt's wat2wasm. A missing wat2wasm fails the test: the fixtures are the
// point of these tests (.ci/run installs wabt).
func wat(tb testing.TB, name string) []byte {
	tb.Helper()
	if b, ok := watCache.Load(name); ok {
		return b.([]byte)
	}
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatalf("wat2wasm not found: install wabt (apt-get install -y wabt); .ci/run does: %v", err)
	}
	out := filepath.Join(tb.TempDir(), filepath.Base(name)+".wasm")
	cmd := exec.Command(bin, filepath.Join("testdata", name+".wat"), "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	require.NoError(tb, err)
	watCache.Store(name, b)
	return b
}

func newRuntime(tb testing.TB, opts Options) *Runtime {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := NewRuntime(context.Background(), opts)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// testCallTimeout replaces the 50 ms default deadline, and the 1 s default
// wait for a free instance, in tests that are not about them: on a loaded
// CI machine a goroutine can be descheduled for longer than 50 ms (we
// measured stalls of over a second at load average 6 on 2 vCPUs), and a
// test must not fail on a wall-clock time.
const testCallTimeout = time.Minute

// load loads a plugin for a test, with testCallTimeout unless the spec sets
// a deadline (or an acquire timeout), and closes it when the test ends.
func load(tb testing.TB, r *Runtime, spec Spec) *Plugin {
	tb.Helper()
	if spec.Name == "" {
		spec.Name = "test"
	}
	if spec.Limits.CallTimeout == 0 {
		spec.Limits.CallTimeout = testCallTimeout
	}
	if spec.Limits.AcquireTimeout == 0 {
		spec.Limits.AcquireTimeout = testCallTimeout
	}
	p, err := r.Load(context.Background(), spec)
	require.NoError(tb, err, "load %s", spec.Name)
	tb.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// loadErr loads a fixture that must be refused and returns the error text.
func loadErr(tb testing.TB, spec Spec) string {
	tb.Helper()
	r := newRuntime(tb, Options{})
	p, err := r.Load(context.Background(), spec)
	if err == nil {
		_ = p.Close(context.Background())
		tb.Fatalf("load %s: want an error, got none", spec.Name)
	}
	return err.Error()
}

// kvFor opens an in-memory store and returns plugin's namespace in it.
func kvFor(tb testing.TB, plugin string, quota int64) *store.PluginKV {
	tb.Helper()
	s, err := store.Open(store.Options{Memory: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	kv, err := s.PluginKV(plugin, quota)
	require.NoError(tb, err)
	return kv
}

// logBuf is a slog text sink tests read.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testMeta() abi.Meta {
	return abi.Meta{ID: "evt_1", Type: "order.created", Source: "shop", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC).Format(time.RFC3339Nano)}
}

// requireErrContains checks an error's sentinel and text.
func requireErrContains(tb testing.TB, err, target error, substr string) {
	tb.Helper()
	require.ErrorIs(tb, err, target)
	if !strings.Contains(err.Error(), substr) {
		tb.Fatalf("error %q does not contain %q", err, substr)
	}
}
