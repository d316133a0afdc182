package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/plugins"
)

// Plugin routes (scope admin):
//
//	GET    /v1/plugins                  list the loaded plugins, in run order
//	GET    /v1/plugins/{name}           one plugin
//	PUT    /v1/plugins/{name}           upload (or replace) a plugin
//	DELETE /v1/plugins/{name}           unload an uploaded plugin (204)
//	POST   /v1/plugins/{name}/invoke    dry run on a sample event
//
// PUT takes the module in one of two forms. The primary one is the raw
// module with Content-Type application/wasm, settings in query parameters:
//
//	PUT /v1/plugins/fraud?kind=filter&event_types=payment.>&on_error=deny&config.max=3&limits.timeout=100ms
//
// (event_types may repeat or be comma-separated; config.<key> sets one config
// entry; limits.memory_mib, limits.timeout, limits.instances and
// limits.kv_bytes set the limits; secret_keys (repeating or
// comma-separated) names config keys to mask; stage and sha256 are taken as well; any
// other parameter, or another one given twice, answers 400: see
// pluginQuery). The other is multipart/form-data with a "module" part (the
// bytes) and an optional "settings" part holding the same settings as a JSON
// object (plugins.Settings without name); it takes no query parameters. The module may be up to
// Options.MaxModuleBytes; this cap is separate from server.max_body_bytes.
//
// The plugin is compiled, validated and pre-warmed before it replaces the
// one of the same name, which finishes its calls in flight: a module that
// fails answers 422 plugin_load_failed and the old version keeps running.
// Plugins of the config file answer 409 managed_by_config to PUT and
// DELETE; deleting a transform that a webhook names, or uploading one
// without kind transform, answers 409 conflict.

// mediaWasm is the media type of a raw module upload.
const mediaWasm = "application/wasm"

// pluginNotFound is the 404 of an unknown plugin name.
func pluginNotFound(name string) error {
	return errorf(http.StatusNotFound, CodeNotFound, "name", "no plugin named %q", name)
}

// pluginError maps the plugin manager's sentinels to API errors.
func pluginError(name string, err error) error {
	switch {
	case errors.Is(err, plugins.ErrNotFound):
		return pluginNotFound(name)
	case errors.Is(err, plugins.ErrManagedByConfig):
		return errorf(http.StatusConflict, CodeManagedByConfig, "name", "plugin %q is managed by the config file; change it there", name)
	case errors.Is(err, plugins.ErrMemoryBudget):
		return pluginUnavailable("", "plugin %q: the plugin memory budget (plugin_limits.max_memory_mib) has no room for another instance now; retry later", name)
	case errors.Is(err, plugins.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), plugins.ErrInvalid.Error()+": ")
		field, _, _ := strings.Cut(msg, ":")
		return validationError(field, "%s", msg)
	case errors.Is(err, plugins.ErrLoad):
		msg := strings.TrimPrefix(err.Error(), plugins.ErrLoad.Error()+": ")
		return errorf(http.StatusUnprocessableEntity, CodePluginLoad, "module", "%s", msg)
	}
	return err
}

func (a *API) pluginsReady() error {
	if a.opts.Plugins == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "plugins are not available")
	}
	return nil
}

// listPlugins handles GET /v1/plugins. Every plugin fits in one page.
func (a *API) listPlugins(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	if err := a.pluginsReady(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listPage[plugins.Info]{Data: a.opts.Plugins.List()})
	return nil
}

// getPlugin handles GET /v1/plugins/:name.
func (a *API) getPlugin(w http.ResponseWriter, _ *http.Request, ps httprouter.Params) error {
	if err := a.pluginsReady(); err != nil {
		return err
	}
	name := ps.ByName("name")
	for _, p := range a.opts.Plugins.List() {
		if p.Name == name {
			writeJSON(w, http.StatusOK, p)
			return nil
		}
	}
	return pluginNotFound(name)
}

// putPlugin handles PUT /v1/plugins/:name.
func (a *API) putPlugin(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := a.pluginsReady(); err != nil {
		return err
	}
	name := ps.ByName("name")
	mt, err := mediaType(r.Header)
	if err != nil {
		return err
	}
	var s plugins.Settings
	var wasm []byte
	switch mt {
	case mediaWasm, "application/octet-stream":
		if s, err = settingsFromQuery(r.URL.Query()); err != nil {
			return err
		}
		if wasm, err = a.readModule(r.Body); err != nil {
			return err
		}
	case "multipart/form-data":
		if q := r.URL.Query(); len(q) > 0 {
			name := slices.Min(slices.Collect(maps.Keys(q)))
			return badParam(name, "%s: query parameters are not read with multipart/form-data; put the settings in the settings part", name)
		}
		if s, wasm, err = a.readMultipartPlugin(r); err != nil {
			return err
		}
	default:
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "Content-Type %q is not supported; send the module as application/wasm (settings in query parameters) or multipart/form-data (parts module and settings)", mt)
	}
	if len(wasm) == 0 {
		return validationError("module", "module: is empty")
	}
	if s.Name != "" && s.Name != name {
		return validationError("name", "name: %q differs from the name in the path, %q", s.Name, name)
	}
	s.Name = name
	if s.Kind != "transform" {
		// A webhook's transform must stay a transform; the kind must be
		// declared, since an inferred one is only known after loading.
		if id, err := a.webhookUsingTransform(r, name); err != nil {
			return err
		} else if id != "" {
			return errorf(http.StatusConflict, CodeConflict, "kind", "plugin %q is the transform of webhook %q; upload it with kind transform", name, id)
		}
	}
	action := audit.ActionCreate
	if slices.ContainsFunc(a.opts.Plugins.List(), func(p plugins.Info) bool { return p.Name == name }) {
		action = audit.ActionUpdate
	}
	info, err := a.opts.Plugins.Put(r.Context(), s, wasm)
	if err != nil {
		return pluginError(name, err)
	}
	a.changed(r, audit.KindPlugin, action, name)
	writeJSON(w, http.StatusOK, info)
	return nil
}

// readModule reads a module body, mapping an oversized one to 413.
func (a *API) readModule(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || int64(len(b)) > a.opts.MaxModuleBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "module", "the module is larger than the limit of %d bytes", a.opts.MaxModuleBytes)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeInvalidParameter, "module", "reading the module: %v", err)
	}
	return b, nil
}

// readMultipartPlugin reads the "module" and "settings" parts.
func (a *API) readMultipartPlugin(r *http.Request) (plugins.Settings, []byte, error) {
	var s plugins.Settings
	var wasm []byte
	mr, err := r.MultipartReader()
	if err != nil {
		return s, nil, badParam("", "malformed multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s, nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "module", "the upload is larger than the limit of %d bytes", a.opts.MaxModuleBytes)
		}
		if err != nil {
			return s, nil, badParam("", "malformed multipart body: %v", err)
		}
		switch part.FormName() {
		case "module":
			if wasm, err = a.readModule(part); err != nil {
				return s, nil, err
			}
		case "settings":
			raw, err := a.readModule(part)
			if err != nil {
				return s, nil, err
			}
			if err := a.strictUnmarshal(raw, &s, "settings."); err != nil {
				return s, nil, err
			}
		default:
			return s, nil, badParam(part.FormName(), "unknown part %q; send module and settings", part.FormName())
		}
	}
	if wasm == nil {
		return s, nil, validationError("module", "module: the multipart body has no module part")
	}
	return s, wasm, nil
}

// pluginQuery declares the query parameters of PUT /v1/plugins/{name}:
// the settings that settingsFromQuery reads.
var pluginQuery = query("name", "kind", "stage", "on_error", "sha256",
	"limits.memory_mib", "limits.timeout", "limits.instances", "limits.kv_bytes").
	repeating("event_types", "secret_keys").family("config.")

// settingsFromQuery reads plugin settings from query parameters, which
// handle has checked against pluginQuery.
func settingsFromQuery(q url.Values) (plugins.Settings, error) {
	var s plugins.Settings
	atoi := func(k string) (int64, error) {
		v := q.Get(k)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, badParam(k, "%s: must be an integer, got %q", k, v)
		}
		return n, nil
	}
	s.EventTypes = splitList(q["event_types"])
	s.SecretKeys = splitList(q["secret_keys"])
	for k, vs := range q {
		if key, ok := strings.CutPrefix(k, "config."); ok {
			if s.Config == nil {
				s.Config = make(map[string]string)
			}
			s.Config[key] = vs[0]
		}
	}
	s.Name, s.Kind, s.Stage, s.OnError, s.SHA256 = q.Get("name"), q.Get("kind"), q.Get("stage"), q.Get("on_error"), q.Get("sha256")
	s.Limits.Timeout = q.Get("limits.timeout")
	mem, err := atoi("limits.memory_mib")
	if err != nil {
		return s, err
	}
	inst, err := atoi("limits.instances")
	if err != nil {
		return s, err
	}
	kv, err := atoi("limits.kv_bytes")
	if err != nil {
		return s, err
	}
	s.Limits.MemoryMiB, s.Limits.Instances, s.Limits.KVBytes = int(mem), int(inst), kv
	return s, nil
}

// splitList reads a list parameter that may repeat or be comma-separated.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// deletePlugin handles DELETE /v1/plugins/:name.
func (a *API) deletePlugin(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := a.pluginsReady(); err != nil {
		return err
	}
	name := ps.ByName("name")
	if id, err := a.webhookUsingTransform(r, name); err != nil {
		return err
	} else if id != "" {
		return errorf(http.StatusConflict, CodeConflict, "name", "plugin %q is the transform of webhook %q; change the webhook first", name, id)
	}
	if err := a.opts.Plugins.Delete(r.Context(), name); err != nil {
		return pluginError(name, err)
	}
	a.changed(r, audit.KindPlugin, audit.ActionDelete, name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// webhookUsingTransform returns the id of a webhook whose transform is
// name, or "".
func (a *API) webhookUsingTransform(r *http.Request, name string) (string, error) {
	if a.opts.Webhooks == nil {
		return "", nil
	}
	before := ""
	for {
		ws, more, err := a.opts.Webhooks.Webhooks(r.Context(), before, 500)
		if err != nil {
			return "", err
		}
		for _, wh := range ws {
			if wh.Delivery.Transform == name {
				return wh.ID, nil
			}
		}
		if !more || len(ws) == 0 {
			return "", nil
		}
		before = ws[len(ws)-1].ID
	}
}

// invokeBody is the body of POST /v1/plugins/:name/invoke.
type invokeBody struct {
	Event struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Source string          `json:"source"`
		Data   json.RawMessage `json:"data"`
	} `json:"event"`
	WebhookID string `json:"webhook_id"`
}

// invokePlugin handles POST /v1/plugins/:name/invoke: a dry run of the
// plugin on a sample event, on a throwaway instance whose logs are
// captured. It answers 200 with the verdict (filters) or action and output
// (transforms), the reason, the logs and the duration; a plugin that fails
// still answers 200, with the failure in "error".
func (a *API) invokePlugin(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if a.opts.PluginRunner == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "plugins are not available")
	}
	var b invokeBody
	if err := a.decodeJSON(r, &b); err != nil {
		return err
	}
	if err := event.ValidateType(b.Event.Type); err != nil {
		return validationError("event.type", "event.type: %v", err)
	}
	if len(b.Event.Data) == 0 {
		b.Event.Data = json.RawMessage("{}")
	}
	if b.Event.ID == "" {
		b.Event.ID = "evt_dry_run"
	}
	ev := event.Event{ID: b.Event.ID, Type: b.Event.Type, Source: b.Event.Source, Data: b.Event.Data}
	name := ps.ByName("name")
	inv, err := a.opts.PluginRunner.Invoke(r.Context(), name, ev, b.WebhookID)
	if err != nil {
		return pluginError(name, err)
	}
	writeJSON(w, http.StatusOK, inv)
	return nil
}
