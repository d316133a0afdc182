package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/plugins"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// fakePlugins is a hand-written PluginRegistry and PluginRunner: it records
// uploads and answers err, if set.
type fakePlugins struct {
	mu       sync.Mutex
	settings plugins.Settings
	wasm     []byte
	err      error
}

func (f *fakePlugins) List() []plugins.Info {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wasm == nil {
		return []plugins.Info{}
	}
	return []plugins.Info{{Name: f.settings.Name, Kind: f.settings.Kind, ManagedBy: plugins.ManagedByAPI}}
}

func (f *fakePlugins) Put(_ context.Context, s plugins.Settings, wasm []byte) (plugins.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return plugins.Info{}, f.err
	}
	f.settings, f.wasm = s, wasm
	return plugins.Info{Name: s.Name, Kind: s.Kind, ManagedBy: plugins.ManagedByAPI}, nil
}

func (f *fakePlugins) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.wasm = nil
	return nil
}

func (f *fakePlugins) Invoke(_ context.Context, name string, ev event.Event, webhookID string) (plugins.Invocation, error) {
	if f.err != nil {
		return plugins.Invocation{}, f.err
	}
	return plugins.Invocation{Kind: "filter", Verdict: "allow", Reason: ev.Type + "/" + webhookID, Logs: []plugins.LogLine{}}, nil
}

func (f *fakePlugins) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func withPlugins(f *fakePlugins, maxModule int64) harnessOption {
	return func(c *harnessConfig) { c.plugins, c.maxModule = f, maxModule }
}

// TestAPI_putPlugin_forms checks both upload forms, the settings in query
// parameters, and that the module cap is its own, above max_body_bytes.
func TestAPI_putPlugin_forms(t *testing.T) {
	t.Parallel()
	f := &fakePlugins{}
	h := newHarness(t, withPlugins(f, 4*maxBody))
	module := bytes.Repeat([]byte{1}, 2*maxBody) // over max_body_bytes, under the module cap

	r := h.do(http.MethodPut, "/v1/plugins/fraud?kind=filter&event_types=payment.>,refund.>&event_types=x.y&config.max=3&limits.timeout=100ms&limits.instances=2&on_error=deny",
		string(module), "Content-Type", "application/wasm")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "fraud", f.settings.Name)
	require.Equal(t, "filter", f.settings.Kind)
	require.Equal(t, "payment.> refund.> x.y", strings.Join(f.settings.EventTypes, " "))
	require.Equal(t, "3", f.settings.Config["max"])
	require.Equal(t, "100ms", f.settings.Limits.Timeout)
	require.Equal(t, 2, f.settings.Limits.Instances)
	require.Equal(t, "deny", f.settings.OnError)
	require.Equal(t, len(module), len(f.wasm))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormField("settings")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(`{"kind":"transform","config":{"k":"v"}}`))
	fw, err = mw.CreateFormFile("module", "m.wasm")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("\x00asm"))
	require.NoError(t, mw.Close())
	r = h.do(http.MethodPut, "/v1/plugins/redact", body.String(), "Content-Type", mw.FormDataContentType())
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	require.Equal(t, "transform", f.settings.Kind)
	require.Equal(t, "v", f.settings.Config["k"])
	require.Equal(t, "\x00asm", string(f.wasm))

	r = h.get("/v1/plugins")
	require.Equal(t, http.StatusOK, r.status)
	requireJSONEqual(t, `{"data":[{"name":"redact","kind":"transform","sha256":"","event_types":null,"config":null,"stage":"","on_error":"","limits":{},"managed_by":"api","stats":{"calls":0,"crashes":0,"timeouts":0,"busy":0,"plugin_errors":0,"logs_dropped":0,"instances":0},"metrics":null}],"next_cursor":""}`, r.body)
}

// TestAPI_putPlugin_refusals checks what PUT refuses before the manager
// sees the module, and how the manager's errors map to statuses.
func TestAPI_putPlugin_refusals(t *testing.T) {
	t.Parallel()
	f := &fakePlugins{}
	h := newHarness(t, withPlugins(f, 4*maxBody))
	wasm := "Content-Type"
	tests := []struct {
		name, path, body, ct string
		status               int
		code                 string
	}{
		{"too large", "/v1/plugins/p", strings.Repeat("x", 4*maxBody+1), "application/wasm", http.StatusRequestEntityTooLarge, "body_too_large"},
		{"json", "/v1/plugins/p", `{}`, "application/json", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"empty", "/v1/plugins/p", "", "application/wasm", http.StatusUnprocessableEntity, "validation_failed"},
		{"unknown parameter", "/v1/plugins/p?colour=red", "m", "application/wasm", http.StatusBadRequest, "invalid_parameter"},
		{"bad integer", "/v1/plugins/p?limits.instances=many", "m", "application/wasm", http.StatusBadRequest, "invalid_parameter"},
		{"other name", "/v1/plugins/p?name=q", "m", "application/wasm", http.StatusUnprocessableEntity, "validation_failed"},
	}
	for _, tt := range tests {
		r := h.do(http.MethodPut, tt.path, tt.body, wasm, tt.ct)
		require.Equal(t, tt.status, r.status, "%s: %s", tt.name, r.body)
		require.Contains(t, string(r.body), `"code":"`+tt.code+`"`, tt.name)
	}
	r := h.do(http.MethodPut, "/v1/plugins/p", "m", wasm, "application/wasm", "Authorization", "Bearer "+keyPublish)
	require.Equal(t, http.StatusForbidden, r.status)

	errs := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: kind: must be observer, filter or transform", plugins.ErrInvalid), http.StatusUnprocessableEntity, "validation_failed"},
		{fmt.Errorf("%w: plugin \"p\": no gw_filter export", plugins.ErrLoad), http.StatusUnprocessableEntity, "plugin_load_failed"},
		{fmt.Errorf("plugin \"p\": %w", plugins.ErrManagedByConfig), http.StatusConflict, "managed_by_config"},
	}
	for _, e := range errs {
		f.fail(e.err)
		r := h.do(http.MethodPut, "/v1/plugins/p", "m", wasm, "application/wasm")
		require.Equal(t, e.status, r.status, "%v: %s", e.err, r.body)
		require.Contains(t, string(r.body), `"code":"`+e.code+`"`)
	}
	f.fail(fmt.Errorf("plugin \"p\": %w", plugins.ErrNotFound))
	require.Equal(t, http.StatusNotFound, h.do(http.MethodDelete, "/v1/plugins/p", "").status)
	require.Equal(t, http.StatusNotFound, h.postJSON("/v1/plugins/p/invoke", `{"event":{"type":"a.b"}}`).status)
}

// TestAPI_invokePlugin checks the dry-run request and answer.
func TestAPI_invokePlugin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withPlugins(&fakePlugins{}, 0))
	r := h.postJSON("/v1/plugins/p/invoke", `{"event":{"type":"order.created","data":{"n":1}},"webhook_id":"wh_1"}`)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	requireJSONEqual(t, `{"kind":"filter","verdict":"allow","reason":"order.created/wh_1","logs":[],"duration_ms":0}`, r.body)
	r = h.postJSON("/v1/plugins/p/invoke", `{"event":{"data":{}}}`)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	r = h.postJSON("/v1/plugins/p/invoke", `{"event":{"type":"a.b"},"extra":1}`)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
}
