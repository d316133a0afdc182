package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// watModule compiles testdata/plugins/<name>.wat with wabt's wat2wasm (.ci/run
// installs wabt).
func watModule(tb testing.TB, name string) []byte {
	tb.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatalf("wat2wasm not found: install wabt (apt-get install -y wabt); .ci/run does: %v", err)
	}
	out := filepath.Join(tb.TempDir(), name+".wasm")
	if msg, err := exec.Command(bin, filepath.Join("testdata", "plugins", name+".wat"), "-o", out).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	require.NoError(tb, err)
	return b
}

// testPluginTimeout is the limits.timeout of the plugins in these tests,
// the most the config allows: the 50 ms default fails a call that a busy
// machine stalls, and only a test about deadlines may depend on one.
var testPluginTimeout = config.MaxPluginTimeout.String()

// pluginView is the API view of a plugin, reduced to what tests check.
type pluginView struct {
	Name       string            `json:"name"`
	Kind       string            `json:"kind"`
	SHA256     string            `json:"sha256"`
	EventTypes []string          `json:"event_types"`
	Config     map[string]string `json:"config"`
	OnError    string            `json:"on_error"`
	ManagedBy  string            `json:"managed_by"`
}

// send sends a request with a body of the given content type and decodes
// the JSON answer into out (if not nil). It returns the status.
func (r *running) send(tb testing.TB, method, path, contentType string, body []byte, out any) (int, error) {
	req, err := http.NewRequest(method, r.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", raw, err)
		}
	}
	return resp.StatusCode, nil
}

// putWasm uploads a module with settings in the query and checks the status.
func (r *running) putWasm(tb testing.TB, name, query string, wasm []byte, want int, out any) {
	tb.Helper()
	var raw json.RawMessage
	status, err := r.send(tb, http.MethodPut, "/v1/plugins/"+name+"?"+query, "application/wasm", wasm, &raw)
	require.NoError(tb, err)
	if status != want {
		tb.Fatalf("PUT /v1/plugins/%s: want status %d, got %d: %s", name, want, status, raw)
	}
	if out != nil {
		require.NoError(tb, json.Unmarshal(raw, out))
	}
}

// invocation is the answer of POST /v1/plugins/{name}/invoke.
type invocation struct {
	Kind    string `json:"kind"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Logs    []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"logs"`
	Error string `json:"error"`
}

// TestPluginsAPI_lifecycle uploads, lists, dry-runs, refuses, deletes and
// reloads plugins through the API, next to a plugin of the config file.
func TestPluginsAPI_lifecycle(t *testing.T) {
	t.Parallel()
	allow := watModule(t, "allow")
	note := watModule(t, "note")
	pinnedPath := filepath.Join(t.TempDir(), "allow.wasm")
	require.NoError(t, os.WriteFile(pinnedPath, allow, 0o600))
	s := newSite(t)
	rc := newReceiver(t, status(http.StatusNoContent))
	yaml := deliveryConfig() +
		"plugins:\n  - name: pinned\n    path: " + pinnedPath + "\n    kind: filter\n    limits: {timeout: " + testPluginTimeout + "}\n" +
		"webhooks:\n  - id: wh_all\n    url: " + rc.URL + "\n    event_types: [\">\"]\n"
	cfg := s.config(yaml)
	r := s.start(cfg)

	// The config's plugin is listed and cannot be replaced or deleted.
	var page struct {
		Data       []pluginView `json:"data"`
		NextCursor string       `json:"next_cursor"`
	}
	r.mustDo(t, http.MethodGet, "/v1/plugins", "", http.StatusOK, &page)
	require.Equal(t, 1, len(page.Data))
	require.Equal(t, "pinned", page.Data[0].Name)
	require.Equal(t, "config", page.Data[0].ManagedBy)
	var e apiError
	r.putWasm(t, "pinned", "kind=filter", allow, http.StatusConflict, &e)
	require.Equal(t, "managed_by_config", e.Error.Code)
	r.mustDo(t, http.MethodDelete, "/v1/plugins/pinned", "", http.StatusConflict, &e)
	require.Equal(t, "managed_by_config", e.Error.Code)

	// Upload a filter that flags with its config note.
	var p pluginView
	r.putWasm(t, "note", "kind=filter&event_types=order.>&config.note=suspicious&limits.timeout="+testPluginTimeout, note, http.StatusOK, &p)
	require.Equal(t, "filter", p.Kind)
	require.Equal(t, "api", p.ManagedBy)
	require.Equal(t, 64, len(p.SHA256))
	require.Equal(t, "suspicious", p.Config["note"])
	r.mustDo(t, http.MethodGet, "/v1/plugins", "", http.StatusOK, &page)
	require.Equal(t, 2, len(page.Data))
	r.mustDo(t, http.MethodGet, "/v1/plugins/note", "", http.StatusOK, &p)
	require.Equal(t, "order.>", strings.Join(p.EventTypes, ","))

	// A dry run answers the verdict, the reason and the logs.
	var inv invocation
	r.mustDo(t, http.MethodPost, "/v1/plugins/note/invoke", `{"event":{"type":"order.created","data":{"n":1}}}`, http.StatusOK, &inv)
	require.Equal(t, "filter", inv.Kind)
	require.Equal(t, "flag", inv.Verdict)
	require.Equal(t, "suspicious", inv.Reason)
	require.Equal(t, "", inv.Error)
	require.True(t, len(inv.Logs) == 1 && inv.Logs[0].Message == "note filter ran", "logs: %+v", inv.Logs)
	r.mustDo(t, http.MethodPost, "/v1/plugins/nope/invoke", `{"event":{"type":"order.created","data":{}}}`, http.StatusNotFound, nil)

	// Broken modules answer 422 and the old version keeps serving.
	r.putWasm(t, "note", "kind=filter", []byte("not a wasm module"), http.StatusUnprocessableEntity, &e)
	require.Equal(t, "plugin_load_failed", e.Error.Code)
	r.putWasm(t, "note", "kind=filter", watModule(t, "nohandler"), http.StatusUnprocessableEntity, &e)
	require.Equal(t, "plugin_load_failed", e.Error.Code)
	require.Contains(t, e.Error.Message, "note")
	r.putWasm(t, "note", "kind=filter&limits.timeout=forever", note, http.StatusUnprocessableEntity, &e)
	require.Equal(t, "validation_failed", e.Error.Code)
	r.mustDo(t, http.MethodGet, "/v1/plugins/note", "", http.StatusOK, &p)
	require.Equal(t, "suspicious", p.Config["note"])
	ev := r.publish(t, "order.created", `{"n":2}`)
	r.waitDelivery(t, ev.ID, "wh_all", "succeeded")
	var got eventWithVerdicts
	r.mustDo(t, http.MethodGet, "/v1/events/"+ev.ID, "", http.StatusOK, &got)
	require.Equal(t, 2, len(got.Verdicts))
	require.Equal(t, "note", got.Verdicts[1].Plugin)
	require.Equal(t, pipeline.OutcomeFlag, got.Verdicts[1].Outcome)
	require.Equal(t, "suspicious", got.Verdicts[1].Reason)

	// A transform uploaded as multipart, named by a webhook, cannot be
	// deleted until the webhook lets go of it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormField("settings")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(`{"kind":"transform"}`))
	fw, err = mw.CreateFormFile("module", "passthrough.wasm")
	require.NoError(t, err)
	_, _ = fw.Write(watModule(t, "passthrough"))
	require.NoError(t, mw.Close())
	status, err := r.send(t, http.MethodPut, "/v1/plugins/passthrough", mw.FormDataContentType(), body.Bytes(), &p)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "transform", p.Kind)
	hook := r.createHook(t, rc.URL, []string{"never.>"}, `"transform":"passthrough"`)
	r.mustDo(t, http.MethodDelete, "/v1/plugins/passthrough", "", http.StatusConflict, &e)
	require.Equal(t, "conflict", e.Error.Code)
	require.Contains(t, e.Error.Message, hook.ID)
	r.putWasm(t, "passthrough", "kind=filter", allow, http.StatusConflict, &e)
	require.Equal(t, "conflict", e.Error.Code)

	// Deleting an uploaded plugin unloads it.
	r.mustDo(t, http.MethodDelete, "/v1/plugins/note", "", http.StatusNoContent, nil)
	r.mustDo(t, http.MethodGet, "/v1/plugins/note", "", http.StatusNotFound, nil)
	r.mustDo(t, http.MethodDelete, "/v1/plugins/note", "", http.StatusNotFound, nil)

	// Uploaded plugins survive a restart, after the config's.
	require.NoError(t, r.stop(t))
	r = s.start(cfg)
	r.mustDo(t, http.MethodGet, "/v1/plugins", "", http.StatusOK, &page)
	require.Equal(t, 2, len(page.Data))
	require.Equal(t, "pinned", page.Data[0].Name)
	require.Equal(t, "passthrough", page.Data[1].Name)
	require.Equal(t, "api", page.Data[1].ManagedBy)
	require.Equal(t, "transform", page.Data[1].Kind)

	// A webhook can name a loaded transform, and nothing else.
	hookBody := func(transform string) string {
		return `{"url":"` + rc.URL + `","event_types":[">"],"transform":"` + transform + `"}`
	}
	r.mustDo(t, http.MethodPost, "/v1/webhooks", hookBody("passthrough"), http.StatusCreated, nil)
	for _, bad := range []string{"nope", "pinned"} {
		r.mustDo(t, http.MethodPost, "/v1/webhooks", hookBody(bad), http.StatusUnprocessableEntity, &e)
		require.Equal(t, "validation_failed", e.Error.Code)
		require.Equal(t, "transform", e.Error.Field)
	}
}

// TestPluginsAPI_hotReloadUnderLoad publishes from several goroutines while
// a filter is swapped back and forth between an allow-all version and one
// that flags. The filter fails closed (on_error: deny), so a call lost in a
// swap would deny its event: every acknowledged event must reach the
// receiver exactly once, with one verdict from one of the two versions.
func TestPluginsAPI_hotReloadUnderLoad(t *testing.T) {
	t.Parallel()
	v1, v2 := watModule(t, "allow"), watModule(t, "note")
	s := newSite(t)
	rc := newReceiver(t, status(http.StatusNoContent))
	r := s.start(s.config(deliveryConfig() + "webhooks:\n  - id: wh_all\n    url: " + rc.URL + "\n    event_types: [\">\"]\n"))
	settings := "kind=filter&on_error=deny&limits.timeout=" + testPluginTimeout
	r.putWasm(t, "gate", settings, v1, http.StatusOK, nil)

	const publishers, each, swaps = 4, 60, 6
	var (
		mu   sync.Mutex
		ids  []string
		errs []error
		wg   sync.WaitGroup
	)
	done := make(chan struct{})
	for w := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var rcpt receipt
				body := fmt.Sprintf(`{"type":"load.tick","data":{"w":%d,"i":%d}}`, w, i)
				status, err := r.do(t, http.MethodPost, "/v1/events", body, &rcpt)
				mu.Lock()
				if err == nil && status != http.StatusAccepted {
					err = fmt.Errorf("publish: status %d", status)
				}
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, rcpt.ID)
				}
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	// Spread the swaps over the publishing.
	for i := range swaps {
		require.Eventually(t, "the publishers to get ahead", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(ids)+len(errs) >= (i+1)*publishers*each/(swaps+1)
		})
		if i%2 == 0 {
			r.putWasm(t, "gate", settings+"&config.note=v2", v2, http.StatusOK, nil)
		} else {
			r.putWasm(t, "gate", settings, v1, http.StatusOK, nil)
		}
	}
	require.Receive(t, done, "the publishers to finish")
	require.Equal(t, 0, len(errs), "publish errors: %v", errs)
	require.Equal(t, publishers*each, len(ids))

	rc.waitCount(t, len(ids))
	outcomes := map[string]int{}
	for _, id := range ids {
		require.Equal(t, 1, len(rc.of(id)), "deliveries of %s", id)
		var ev eventWithVerdicts
		r.mustDo(t, http.MethodGet, "/v1/events/"+id, "", http.StatusOK, &ev)
		require.Equal(t, 1, len(ev.Verdicts), "verdicts of %s", id)
		v := ev.Verdicts[0]
		require.Equal(t, "", v.Error, "verdict of %s", id)
		ok := v.Outcome == pipeline.OutcomeAllow || (v.Outcome == pipeline.OutcomeFlag && v.Reason == "v2")
		require.True(t, ok, "verdict of %s: %+v", id, v)
		outcomes[v.Outcome]++
	}
	t.Logf("verdicts: %v", outcomes)
	require.Equal(t, len(ids), rc.count())
}

// TestPluginsAPI_configMasked: plugin config values whose key looks
// secret (salt, secret, token, password, key, credential) or that the
// plugin lists in secret_keys come back from GET and list as a hint only,
// like webhook secrets (issue 10, finding 9: a redact hash_salt came back
// in clear).
func TestPluginsAPI_configMasked(t *testing.T) {
	t.Parallel()
	wasm := filepath.Join(t.TempDir(), "allow.wasm")
	allow := watModule(t, "allow")
	require.NoError(t, os.WriteFile(wasm, allow, 0o600))
	s := newSite(t)
	r := s.start(s.config("plugins:\n  - name: redact\n    path: " + wasm + "\n    kind: filter\n" +
		"    config: {hash_salt: pepper-0123456789-wxyz, mode: hash, signing_id: id-0123456789-abcd}\n" +
		"    secret_keys: [signing_id]\n"))
	r.putWasm(t, "uploaded", "kind=filter&config.api_token=tok-0123456789-efgh&config.fields=phone&config.pin=42&secret_keys=pin", allow, http.StatusOK, nil)

	want := map[string]map[string]string{
		"redact":   {"hash_salt": "…wxyz", "mode": "hash", "signing_id": "…abcd"},
		"uploaded": {"api_token": "…efgh", "fields": "phone", "pin": "…"},
	}
	var list struct{ Data []pluginView }
	r.mustDo(t, http.MethodGet, "/v1/plugins", "", http.StatusOK, &list)
	require.Equal(t, 2, len(list.Data))
	for _, p := range list.Data {
		var one pluginView
		r.mustDo(t, http.MethodGet, "/v1/plugins/"+p.Name, "", http.StatusOK, &one)
		for name, got := range map[string]map[string]string{"list": p.Config, "get": one.Config} {
			for k, v := range want[p.Name] {
				if got[k] != v {
					t.Errorf("%s %s: config %s = %q, want %q", name, p.Name, k, got[k], v)
				}
			}
		}
	}
	// The plugin itself still gets the real values: the upload round trip
	// (settings saved, then loaded again) keeps them.
	raw, err := json.Marshal(list)
	require.NoError(t, err)
	for _, secret := range []string{"pepper", "tok-0123", "id-0123", `"42"`} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the plugin list shows %q: %s", secret, raw)
		}
	}
}
