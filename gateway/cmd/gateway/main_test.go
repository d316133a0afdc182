package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// waitLimit bounds every wait for the subprocess. It is a hang guard, not
// an expectation: nothing is asserted about how long anything takes.
const waitLimit = 30 * time.Second

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// gatewayBinary builds the real binary once per test run, with cgo off, as
// the release build does: the tests then also prove the static build works.
func gatewayBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if binDir, err = os.MkdirTemp("", "gateway-bin-"); err != nil {
			binError = err
			return
		}
		binPath = filepath.Join(binDir, "gateway")
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(tb, binError, "building the gateway binary")
	return binPath
}

// gatewayEnv is the environment without GATEWAY_* variables, so that the
// developer's shell cannot change what the tests run.
func gatewayEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs the binary to completion and returns its exit code, stdout and
// stderr.
func run(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(gatewayBinary(tb), args...)
	cmd.Env = gatewayEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	tb.Fatalf("run %v: %v", args, err)
	return 0, "", ""
}

// server is a `gateway serve` subprocess.
type server struct {
	cmd    *exec.Cmd
	stderr string // path of the file the process writes its stderr to
	base   string // http://host:port
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// writeServeConfig writes a config for serve into dir, with its data in
// dir/data, and returns its path.
func writeServeConfig(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "gw.yaml")
	body := fmt.Sprintf("server:\n  addr: 127.0.0.1:0\n  shutdown_timeout: 10s\nstorage:\n  path: %s\n  sync: true\nlog:\n  level: info\n", filepath.Join(dir, "data"))
	require.NoError(tb, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// serve starts `gateway serve --config cfgPath` with extra flags and waits
// for the address it logs.
func serve(tb testing.TB, cfgPath string, extra ...string) *server {
	tb.Helper()
	s := &server{stderr: filepath.Join(tb.TempDir(), "stderr"), exited: make(chan struct{})}
	f, err := os.Create(s.stderr)
	require.NoError(tb, err)
	defer f.Close() // the process has its own descriptor
	s.cmd = exec.Command(gatewayBinary(tb), append([]string{"serve", "--config", cfgPath}, extra...)...)
	s.cmd.Env = gatewayEnv()
	s.cmd.Stderr = f
	require.NoError(tb, s.cmd.Start())
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if tb.Failed() {
			tb.Logf("gateway stderr:\n%s", s.log())
		}
	})
	deadline := time.After(waitLimit)
	s.await(tb, deadline, "log its address", func() bool {
		m := listening.FindStringSubmatch(s.log())
		if m != nil {
			s.base = "http://" + m[1]
		}
		return m != nil
	})
	// It listens before the store is open; wait until it is ready.
	s.await(tb, deadline, "become ready", func() bool {
		status, err := s.status("/readyz")
		return err == nil && status == http.StatusOK
	})
	return s
}

// await polls cond until it holds, failing the test if the process exits
// first or deadline passes. what completes "gateway did not ...".
func (s *server) await(tb testing.TB, deadline <-chan time.Time, what string, cond func() bool) {
	tb.Helper()
	for !cond() {
		select {
		case <-s.exited:
			tb.Fatalf("gateway exited before it would %s: %v\n%s", what, s.err, s.log())
		case <-deadline:
			tb.Fatalf("gateway did not %s:\n%s", what, s.log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// log returns what the process has written to stderr so far.
func (s *server) log() string {
	b, _ := os.ReadFile(s.stderr)
	return string(b)
}

// wait waits for the process to exit and returns its exit code (-1 if a
// signal killed it).
func (s *server) wait(tb testing.TB) int {
	tb.Helper()
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(waitLimit):
		tb.Fatalf("gateway did not exit:\n%s", s.log())
		return 0
	}
}

var httpClient = &http.Client{
	Timeout:   waitLimit,
	Transport: &http.Transport{MaxIdleConnsPerHost: 32},
}

// status GETs path and returns the status. It is safe to call from any
// goroutine.
func (s *server) status(path string) (int, error) {
	resp, err := httpClient.Get(s.base + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// getJSON GETs path and decodes the JSON answer into out if the status is
// 200. It returns the status.
func (s *server) getJSON(tb testing.TB, path string, out any) int {
	tb.Helper()
	resp, err := httpClient.Get(s.base + path)
	require.NoError(tb, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && out != nil {
		require.NoError(tb, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// TestServe_crash publishes from many goroutines, kills the process with
// SIGKILL while publishes are in flight, restarts it on the same data
// directory and checks that every acknowledged event is there.
func TestServe_crash(t *testing.T) {
	const publishers, killAfter = 16, 1000
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir)
	s := serve(t, cfg)

	var (
		mu     sync.Mutex
		acked  []string
		killed atomic.Bool
		failed = make(chan error, publishers)
		wg     sync.WaitGroup
	)
	for p := range publishers {
		wg.Go(func() {
			for n := 0; ; n++ {
				body := fmt.Sprintf(`{"type":"crash.test","data":{"p":%d,"n":%d}}`, p, n)
				if n%3 == 0 { // some with client-supplied ids
					body = fmt.Sprintf(`{"id":"c-%d-%d","type":"crash.test","data":{"p":%d,"n":%d}}`, p, n, p, n)
				}
				resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(body))
				if err != nil {
					if !killed.Load() {
						failed <- err
					}
					return
				}
				var rc struct{ ID string }
				derr := json.NewDecoder(resp.Body).Decode(&rc)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted || derr != nil {
					if !killed.Load() {
						failed <- fmt.Errorf("publish: status %d, decode: %v", resp.StatusCode, derr)
					}
					return
				}
				mu.Lock()
				acked = append(acked, rc.ID)
				mu.Unlock()
			}
		})
	}
	deadline := time.Now().Add(waitLimit)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= killAfter {
			break
		}
		select {
		case err := <-failed:
			t.Fatalf("publishing before the kill failed: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "only %d events acknowledged", n)
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	require.NoError(t, s.cmd.Process.Kill())
	require.Equal(t, -1, s.wait(t)) // killed by a signal
	wg.Wait()
	close(failed)
	for err := range failed {
		require.NoError(t, err, "publishing before the kill")
	}
	mu.Lock()
	acked = slices.Clone(acked)
	mu.Unlock()
	t.Logf("%d events acknowledged before SIGKILL", len(acked))

	s = serve(t, cfg)
	// Every acknowledged id is there.
	ids := make(chan string)
	missing := make(chan string, len(acked))
	var readers sync.WaitGroup
	for range 8 {
		readers.Go(func() {
			for id := range ids {
				if status, err := s.status("/v1/events/" + id); status != http.StatusOK {
					missing <- fmt.Sprintf("%s (%d %v)", id, status, err)
				}
			}
		})
	}
	for _, id := range acked {
		ids <- id
	}
	close(ids)
	readers.Wait()
	close(missing)
	var lost []string
	for id := range missing {
		lost = append(lost, id)
	}
	require.True(t, len(lost) == 0, "%d acknowledged events are missing after the crash, e.g. %v", len(lost), lost[:min(len(lost), 5)])

	// The listing holds at least as many, each once.
	seen := make(map[string]bool)
	cursor := ""
	for {
		var page struct {
			Data       []struct{ ID string } `json:"data"`
			NextCursor string                `json:"next_cursor"`
		}
		require.Equal(t, http.StatusOK, s.getJSON(t, "/v1/events?limit=1000&cursor="+cursor, &page))
		for _, ev := range page.Data {
			require.False(t, seen[ev.ID], "event %s is listed twice", ev.ID)
			seen[ev.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.True(t, len(seen) >= len(acked), "listed %d events, acknowledged %d", len(seen), len(acked))

	// The restarted gateway takes new events.
	resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(`{"type":"after.crash","data":{}}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}

// TestBinary_static checks that the cgo-free build has no dynamic loader.
func TestBinary_static(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	f, err := elf.Open(gatewayBinary(t))
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.True(t, p.Type != elf.PT_INTERP && p.Type != elf.PT_DYNAMIC, "the binary is dynamically linked (%s)", p.Type)
	}
}
