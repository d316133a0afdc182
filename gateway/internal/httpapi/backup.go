package httpapi

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/julienschmidt/httprouter"
)

// Backuper writes a full backup of the store, from one snapshot, while the
// gateway keeps serving (store.Store.Backup).
type Backuper interface {
	Backup(ctx context.Context, w io.Writer) error
}

// backup streams a backup: POST /v1/admin/backup, scope admin. The answer
// is the file `gateway store restore --in` reads. A backup can outlast
// server.write_timeout, so the handler lifts the write deadline. Once bytes
// are sent the status can no longer change, so a failure half-way aborts
// the connection: the client sees an error, never a short file that looks
// whole.
func (a *API) backup(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if a.opts.Backup == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "backups are not available: the store is in memory (storage.memory)")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	name := "gateway-" + time.Now().UTC().Format("20060102T150405Z") + ".backup"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if err := a.opts.Backup.Backup(r.Context(), w); err != nil {
		a.logger.Error("backup failed; the connection is aborted so that the client sees the failure", "err", err)
		panic(http.ErrAbortHandler)
	}
	a.logger.Info("backup taken", "remote", r.RemoteAddr)
	return nil
}
