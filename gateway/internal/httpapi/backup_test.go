package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// TestAPI_backup: POST /v1/admin/backup needs the admin scope and answers
// a backup that store.Restore loads, with the published event in it.
func TestAPI_backup(t *testing.T) {
	h := newHarness(t)
	res := h.do("POST", "/v1/events", `{"id":"before-backup","type":"a.b","data":{"n":1}}`, "Content-Type", "application/json")
	require.Equal(t, http.StatusAccepted, res.status)

	res = h.do("POST", "/v1/admin/backup", "", "Authorization", "Bearer "+keyPublish)
	require.Equal(t, http.StatusForbidden, res.status)

	res = h.do("POST", "/v1/admin/backup", "", "Authorization", "Bearer "+keyAdmin)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "application/octet-stream", res.header.Get("Content-Type"))

	dir := filepath.Join(t.TempDir(), "restored")
	require.NoError(t, store.Restore(dir, bytes.NewReader(res.body), slog.New(slog.DiscardHandler)))
	st, err := store.Open(store.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer st.Close()
	ev, err := st.Event(context.Background(), "before-backup")
	require.NoError(t, err)
	require.Equal(t, `{"n":1}`, string(ev.Data))
}
