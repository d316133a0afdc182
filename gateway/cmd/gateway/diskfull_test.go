package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// TestServe_diskFull fills a real tmpfs under the real binary. Before
// package diskspace, this died with SIGBUS inside Badger (a write into a
// memory-mapped table on a full filesystem) after 135 acknowledged events
// of 200 KB on 64 MiB, and every restart died the same way.
//
// Now the gateway must stay up and answer 507 (and /readyz 503) once the
// margin is reached, and keep every acknowledged event readable. Once
// something else has filled the filesystem, it must refuse to start with
// one clear message, and start with every acknowledged event once space
// is freed.
//
// Mounting needs root; CI runs as root. Without root the test fails, it
// does not skip.
func TestServe_diskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("TestServe_diskFull needs root to mount a tmpfs (CI runs as root); run go test as root")
	}
	const minFree = 16 << 20
	reserve, err := store.SpaceNeeded(filepath.Join(t.TempDir(), "none"))
	require.NoError(t, err)
	size := reserve + minFree + 96<<20
	mnt := filepath.Join(t.TempDir(), "fs")
	require.NoError(t, os.Mkdir(mnt, 0o700))
	mount(t, mnt, fmt.Sprintf("size=%d", size))
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	cfg := filepath.Join(t.TempDir(), "gw.yaml")
	body := fmt.Sprintf("server:\n  addr: 127.0.0.1:0\n  shutdown_timeout: 10s\nstorage:\n  path: %s\n  sync: true\n  min_free_bytes: %d\nlog:\n  level: info\n", filepath.Join(mnt, "data"), minFree)
	require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))

	s := serve(t, cfg)
	acked := fill(t, s)
	t.Logf("%d events acknowledged before 507 and /readyz 503 (tmpfs of %d MiB)", len(acked), size>>20)
	require.True(t, len(acked) > 100, "only %d events fit before the first 507", len(acked))
	select {
	case <-s.exited:
		t.Fatalf("the gateway died on the full disk: %v\n%s", s.err, s.log())
	default:
	}
	checkEvents(t, s, acked)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t), "exit code after SIGTERM")

	// Something else fills the filesystem while the gateway is down:
	// starting fails at once, with one message and no crash.
	filler := filepath.Join(mnt, "filler")
	fillUp(t, filler)
	code, stderr := runFor(t, "serve", "--config", cfg)
	t.Logf("serve on the full disk: exit %d, stderr:\n%s", code, stderr)
	require.True(t, code != 0, "serve on a full disk exited 0:\n%s", stderr)
	require.True(t, strings.Contains(stderr, "cannot start") && strings.Contains(stderr, "storage.min_free_bytes"), "serve on a full disk:\n%s", stderr)
	require.True(t, !strings.Contains(stderr, "goroutine ") && !strings.Contains(stderr, "SIGBUS"), "serve on a full disk crashed:\n%s", stderr)

	// The operator frees space: every acknowledged event is there.
	require.NoError(t, os.Remove(filler))
	s = serve(t, cfg)
	checkEvents(t, s, acked)
}

// fillUp writes zeros to path until the filesystem is full.
func fillUp(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.Create(path)
	require.NoError(tb, err)
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.True(tb, errors.Is(err, syscall.ENOSPC), "filling the disk: %v", err)
			return
		}
	}
}

// mount mounts a tmpfs on dir with the given options.
func mount(tb testing.TB, dir, opts string) {
	tb.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput()
	require.NoError(tb, err, "mount -o %s: %s", opts, out)
}

// fill publishes incompressible events of about 200 KB from four
// goroutines until the gateway answers 507 and /readyz 503, and returns
// the ids it acknowledged. Any other answer, or a broken connection, fails the test.
func fill(tb testing.TB, s *server) []string {
	tb.Helper()
	var (
		mu    sync.Mutex
		ids   []string
		full  bool
		wg    sync.WaitGroup
		fails []string
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pad := make([]byte, 150_000)
			for i := 0; ; i++ {
				mu.Lock()
				stop := full || len(fails) > 0 || len(ids) > 100_000
				mu.Unlock()
				if stop {
					return
				}
				_, _ = rand.Read(pad)
				body := fmt.Sprintf(`{"type":"fill.x","data":{"pad":%q}}`, base64.StdEncoding.EncodeToString(pad))
				resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(body))
				mu.Lock()
				switch {
				case err != nil:
					fails = append(fails, err.Error())
				case resp.StatusCode == http.StatusAccepted:
					var id struct{ ID string }
					raw, _ := io.ReadAll(resp.Body)
					if json.Unmarshal(raw, &id) == nil && id.ID != "" {
						ids = append(ids, id.ID)
					} else {
						fails = append(fails, "bad receipt: "+string(raw))
					}
				case resp.StatusCode == http.StatusInsufficientStorage:
					raw, _ := io.ReadAll(resp.Body)
					if !bytes.Contains(raw, []byte(`"insufficient_storage"`)) {
						fails = append(fails, "507 without the code: "+string(raw))
					}
					// Near the margin, a burst is refused before the next
					// poll sees the disk; the disk is full once /readyz
					// says so too.
					if st, err := s.status("/readyz"); err == nil && st == http.StatusServiceUnavailable {
						full = true
					}
				default:
					raw, _ := io.ReadAll(resp.Body)
					fails = append(fails, fmt.Sprintf("status %d: %s", resp.StatusCode, raw))
				}
				mu.Unlock()
				if resp != nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	if len(fails) > 0 {
		tb.Fatalf("publishing onto a filling disk: %v (after %d acknowledged)\n%s", fails, len(ids), s.log())
	}
	require.True(tb, full, "the disk never filled after %d events", len(ids))
	return ids
}

// checkEvents reads every id back.
func checkEvents(tb testing.TB, s *server, ids []string) {
	tb.Helper()
	for _, id := range ids {
		require.Equal(tb, http.StatusOK, s.getJSON(tb, "/v1/events/"+id, nil), "GET acknowledged event %s", id)
	}
}

// runFor runs the binary with args, killing it after waitLimit, and returns
// its exit code and stderr.
func runFor(tb testing.TB, args ...string) (int, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, gatewayBinary(tb), args...)
	cmd.Env = gatewayEnv()
	cmd.Stderr = &stderr
	_ = cmd.Run() // the exit code says how it went
	if ctx.Err() != nil {
		tb.Fatalf("%v did not exit within %s:\n%s", args, waitLimit, stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
