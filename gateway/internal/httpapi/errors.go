package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Error is an API error: the status it maps to, a stable machine-readable
// code, a human message and, for validation errors, the offending field.
type Error struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field,omitempty"`
	Details []webhook.Problem `json:"details,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header when set.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Error codes. Clients may switch on them; they never change meaning.
const (
	CodeInvalidJSON         = "invalid_json"
	CodeDuplicateKey        = "duplicate_key"
	CodeInvalidUTF8         = "invalid_utf8"
	CodeTooDeep             = "too_deep"
	CodeBodyTooLarge        = "body_too_large"
	CodeValidation          = "validation_failed"
	CodeUnsupportedMedia    = "unsupported_media_type"
	CodeNotFound            = "not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeUnauthorized        = "unauthorized"
	CodeForbidden           = "forbidden"
	CodeConflict            = "conflict"
	CodeManagedByConfig     = "managed_by_config"
	CodeIdempotencyConflict = "idempotency_key_reused"
	CodeInvalidParameter    = "invalid_parameter"
	CodeUnavailable         = "unavailable"
	CodeInternal            = "internal_error"
	CodeDenied              = "denied"
	CodePluginLoad          = "plugin_load_failed"
	CodePluginUnavailable   = "plugin_unavailable"
	// CodeInsufficientStorage (507) refuses new events while the data
	// directory is short of free space (storage.min_free_bytes).
	CodeInsufficientStorage = "insufficient_storage"
)

func errorf(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

func validationError(field, format string, args ...any) *Error {
	return errorf(http.StatusUnprocessableEntity, CodeValidation, field, format, args...)
}

// problemsError turns validation problems into one 422 naming the first
// field and listing every problem in details.
func problemsError(prefix string, ps webhook.Problems) *Error {
	for i := range ps {
		ps[i].Field = prefix + ps[i].Field
	}
	e := validationError(ps[0].Field, "%s", ps[0].String())
	if len(ps) > 1 {
		e.Message = fmt.Sprintf("%s (and %d more problems, see details)", ps[0].String(), len(ps)-1)
		e.Details = ps
	}
	return e
}

// filterFailed is the answer to an event that a stage: ingest filter could
// not judge under on_error: deny (a timeout, a busy pool, a crash): 503, so
// the producer retries, where a real deny (403) tells it not to.
func filterFailed(plugin, field string) *Error {
	return pluginUnavailable(field, "ingest filter plugin %q failed and fails closed (its on_error is deny); retry later", plugin)
}

// pluginUnavailable is a 503 plugin_unavailable with Retry-After: 1: a
// plugin cannot serve now (it failed, or the memory budget is full), and a
// retry may well succeed.
func pluginUnavailable(field, format string, args ...any) *Error {
	e := errorf(http.StatusServiceUnavailable, CodePluginUnavailable, field, format, args...)
	e.RetryAfter = 1
	return e
}

func badParam(field, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, CodeInvalidParameter, field, format, args...)
}

// writeError writes err as the JSON error envelope. Errors that are not
// *Error are internal: they are logged and hidden from the client.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		a.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = errorf(http.StatusInternalServerError, CodeInternal, "", "internal error; the gateway log has details")
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // patterns such as "link.>" stay readable
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal_error","message":"response encoding failed"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
