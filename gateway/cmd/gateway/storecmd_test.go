package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// publish posts one event with a client id and reports whether it was
// acknowledged.
func (s *server) publish(tb testing.TB, id string) bool {
	resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(`{"id":"`+id+`","type":"a.b","data":{}}`))
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusAccepted
}

// TestStore_onlineBackupRestore takes a backup of a running gateway over
// HTTP while publishers keep publishing, restores it with the CLI into a
// new directory, checks it, and serves it: every event acknowledged before
// the backup started is there. The offline backup command refuses the
// running gateway's directory and points to the online way.
func TestStore_onlineBackupRestore(t *testing.T) {
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir)
	s := serve(t, cfg)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("p%d-%d", p, i)
				if s.publish(t, id) {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	require.Eventually(t, "publishers to ack 100 events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 100
	})
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "gw.backup")
	resp, err := httpClient.Post(s.base+"/v1/admin/backup", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	f, err := os.Create(backup)
	require.NoError(t, err)
	_, err = io.Copy(f, resp.Body)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	resp.Body.Close()
	close(stop)
	wg.Wait()

	code, _, stderr := run(t, "store", "backup", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(t.TempDir(), "x"))
	require.True(t, code != 0, "an offline backup of a running gateway's directory must fail")
	require.Contains(t, stderr, "/v1/admin/backup")

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))

	restored := t.TempDir()
	rdata := filepath.Join(restored, "data")
	code, stdout, stderr := run(t, "store", "restore", "--data", rdata, "--in", backup)
	require.Equal(t, 0, code, "restore: %s", stderr)
	require.Contains(t, stdout, "restored")
	code, stdout, stderr = run(t, "store", "check", "--data", rdata)
	require.Equal(t, 0, code, "check of the restore: %s", stderr)
	require.Contains(t, stdout, "healthy")

	code, _, stderr = run(t, "store", "restore", "--data", rdata, "--in", backup)
	require.True(t, code != 0, "restore into a non-empty directory must fail")
	require.Contains(t, stderr, "not empty")

	s = serve(t, writeServeConfig(t, restored))
	for _, id := range before {
		require.Equal(t, 200, s.getJSON(t, "/v1/events/"+id, nil), "event %s, acknowledged before the backup", id)
	}
	t.Logf("%d events acked before the backup, %d in all", len(before), len(acked))
}

// TestStore_damageRefusedAndAccepted: a gateway killed with SIGKILL whose
// WAL is then lost refuses to start, naming the gap; store check fails the
// same way; --accept-data-loss starts it with an ERROR in the log, and the
// next plain start works. A deleted MANIFEST is refused even with the flag.
func TestStore_damageRefusedAndAccepted(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeServeConfig(t, dir)
	s := serve(t, cfg)
	for i := range 50 {
		require.True(t, s.publish(t, fmt.Sprintf("e%d", i)), "publish %d", i)
	}
	// The integrity record follows the commits within 100 ms.
	require.Eventually(t, "the integrity record to count 50 events", func() bool {
		b, err := os.ReadFile(filepath.Join(data, "gateway-integrity.json"))
		var rec struct{ Events int }
		return err == nil && json.Unmarshal(b, &rec) == nil && rec.Events == 50
	})
	require.NoError(t, s.cmd.Process.Kill())
	s.wait(t)
	mems, err := filepath.Glob(filepath.Join(data, "*.mem"))
	require.NoError(t, err)
	require.True(t, len(mems) > 0, "a killed gateway leaves its WAL")
	for _, m := range mems {
		require.NoError(t, os.Remove(m))
	}

	code, _, stderr := run(t, "serve", "--config", cfg)
	require.True(t, code != 0, "serve must refuse a store that lost acknowledged events")
	require.Contains(t, stderr, "50 acknowledged events are missing")
	require.Contains(t, stderr, "--accept-data-loss")
	code, _, stderr = run(t, "store", "check", "--data", data)
	require.True(t, code != 0, "check must fail")
	require.Contains(t, stderr, "50 acknowledged events are missing")

	s = serve(t, cfg, "--accept-data-loss")
	require.Contains(t, s.log(), "level=ERROR")
	require.Contains(t, s.log(), "missing=50")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))
	s = serve(t, cfg)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))

	require.NoError(t, os.Remove(filepath.Join(data, "MANIFEST")))
	code, _, stderr = run(t, "serve", "--config", cfg, "--accept-data-loss")
	require.True(t, code != 0, "serve must refuse a directory without its MANIFEST, even with --accept-data-loss")
	require.Contains(t, stderr, "no MANIFEST")
}
