package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/diskspace"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// fakeDisk is a filesystem whose free space a test sets.
type fakeDisk struct{ avail atomic.Int64 }

const fakeDiskSize = 1 << 40

func (d *fakeDisk) statfs(string) (diskspace.Usage, error) {
	return diskspace.Usage{Total: fakeDiskSize, Avail: uint64(d.avail.Load())}, nil
}

// withFakeDisk makes the gateway read free space from d, polling it every
// few milliseconds.
func withFakeDisk(d *fakeDisk) Option {
	return func(g *Gateway) {
		g.statfs = d.statfs
		g.spaceInterval = 5 * time.Millisecond
	}
}

// errorBody is the JSON error envelope.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestDiskFull_refusesIngest: below storage.min_free_bytes, new events get
// 507 insufficient_storage and /readyz 503, while reads, webhook changes
// and deliveries go on; when space returns, ingest resumes on its own.
func TestDiskFull_refusesIngest(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	cfg := s.deliveryConfig()
	cfg.Storage.MinFreeBytes = 1 << 30
	disk := &fakeDisk{}
	disk.avail.Store(fakeDiskSize / 2)
	r := s.start(cfg, withFakeDisk(disk))

	// A delivery held in flight by the receiver until the disk is full.
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, req *http.Request, h hit) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	})
	r.createHook(t, rc.URL+"/hook", []string{"disk.*"}, "")
	before := r.publish(t, "disk.before", `{"n":1}`)
	require.Eventually(t, "the delivery to reach the receiver", func() bool { return rc.count() == 1 })

	// The disk fills: 512 MiB free is below the 1 GiB margin.
	disk.avail.Store(512 << 20)
	var ready errorBody
	require.Eventually(t, "/readyz to answer 503", func() bool {
		status, _ := r.do(t, http.MethodGet, "/readyz", "", &ready)
		return status == http.StatusServiceUnavailable
	})
	require.Equal(t, "insufficient_storage", ready.Error.Code)
	require.True(t, strings.Contains(ready.Error.Message, "storage.min_free_bytes"), "readyz names the key: %s", ready.Error.Message)

	for _, c := range []struct{ path, body string }{
		{"/v1/events", `{"type":"disk.after","data":{"n":2}}`},
		{"/v1/events/batch", `{"events":[{"type":"disk.after","data":{"n":3}}]}`},
	} {
		var e errorBody
		status, err := r.do(t, http.MethodPost, c.path, c.body, &e)
		require.NoError(t, err)
		require.Equal(t, http.StatusInsufficientStorage, status, "POST %s on a full disk", c.path)
		require.Equal(t, "insufficient_storage", e.Error.Code)
		require.True(t, strings.Contains(e.Error.Message, "storage.min_free_bytes") && strings.Contains(e.Error.Message, "512.0 MiB"),
			"the answer names the free space and the key: %s", e.Error.Message)
	}
	var page struct{ Data []json.RawMessage }
	r.mustDo(t, http.MethodGet, "/v1/events?type=disk.after", "", http.StatusOK, &page)
	require.Equal(t, 0, len(page.Data), "events stored while the disk was full")

	// Reads, webhook changes and deliveries go on.
	r.mustDo(t, http.MethodGet, "/v1/events/"+before.ID, "", http.StatusOK, nil)
	r.createHook(t, rc.URL+"/other", []string{"other.*"}, "")
	close(release)
	require.Eventually(t, "the held delivery to succeed while the disk is full", func() bool {
		var d struct{ Data []json.RawMessage }
		status, _ := r.do(t, http.MethodGet, "/v1/deliveries?status=succeeded", "", &d)
		return status == http.StatusOK && len(d.Data) == 1
	})

	// Space returns: ingest resumes without a restart.
	disk.avail.Store(fakeDiskSize / 2)
	require.Eventually(t, "/readyz to answer 200 again", func() bool {
		status, _ := r.do(t, http.MethodGet, "/readyz", "", nil)
		return status == http.StatusOK
	})
	r.publish(t, "disk.after", `{"n":4}`)
	log := s.log.String()
	require.True(t, strings.Contains(log, "refusing new events") && strings.Contains(log, "accepting new events"), "the log tells both transitions:\n%s", log)
}

// TestDiskFull_refusesStart: starting on a disk already below the margin
// fails with one message that names the figures and the key, before Badger
// opens (whose first write into a memory map would be a SIGBUS).
func TestDiskFull_refusesStart(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	cfg := s.config("")
	disk := &fakeDisk{}
	disk.avail.Store(12 << 20)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	g := New(cfg, WithLogger(slog.New(slog.DiscardHandler)), withFakeDisk(disk), WithListener(ln))
	ctx, cancel := context.WithTimeout(context.Background(), require.WaitLimit)
	defer cancel()
	err = g.Run(ctx)
	require.True(t, err != nil && !errors.Is(err, context.DeadlineExceeded), "Run on a full disk: %v", err)
	msg := err.Error()
	require.True(t, strings.Contains(msg, "cannot start") && strings.Contains(msg, "12.0 MiB free") && strings.Contains(msg, "storage.min_free_bytes"), "message: %s", msg)
	require.True(t, strings.Count(msg, "\n") == 0, "one line: %q", msg)
}
