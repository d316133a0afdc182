package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/audit"
)

// API holds the handlers' dependencies.
type API struct {
	opts   Options
	logger *slog.Logger
	keys   []hashedKey
	router *httprouter.Router
	// pending bounds the ingest bodies in memory (budget.go).
	pending pendingBudget
}

type hashedKey struct {
	name   string
	digest [sha256.Size]byte
	scopes []string
}

// Scopes a route can require.
const (
	scopePublish = "publish"
	scopeAdmin   = "admin"
	scopeNone    = ""
)

// New builds the HTTP handler.
func New(opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxModuleBytes <= 0 {
		opts.MaxModuleBytes = 32 << 20
	}
	if opts.MaxBatchEvents <= 0 {
		opts.MaxBatchEvents = 1000
	}
	if opts.NewID == nil {
		gen := event.NewIDGen(nil)
		opts.NewID = gen.Next
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	if opts.Audit == nil {
		opts.Audit = (*audit.Log)(nil) // discards
	}
	a := &API{opts: opts, logger: opts.Logger}
	a.pending.max = opts.MaxPendingBytes
	for _, k := range opts.Keys {
		a.keys = append(a.keys, hashedKey{name: k.Name, digest: sha256.Sum256([]byte(k.Secret)), scopes: k.Scopes})
	}
	a.router = a.routes()
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }

func (a *API) routes() *httprouter.Router {
	rt := httprouter.New()
	rt.RedirectTrailingSlash = false
	rt.RedirectFixedPath = false
	rt.HandleOPTIONS = true
	rt.NotFound = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errorf(http.StatusNotFound, CodeNotFound, "", "no route for %s %s", r.Method, r.URL.Path))
	})
	rt.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, w.Header().Get("Allow")))
	})
	rt.PanicHandler = func(w http.ResponseWriter, r *http.Request, v any) {
		a.logger.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
		a.writeError(w, r, errorf(http.StatusInternalServerError, CodeInternal, "", "internal error; the gateway log has details"))
	}

	// Each route declares the query parameters it takes; the zero params
	// take none.
	var none params
	page := query("limit", "cursor")

	rt.GET("/healthz", a.handle(scopeNone, none, a.healthz))
	rt.GET("/readyz", a.handle(scopeNone, none, a.readyz))

	rt.POST("/v1/events", a.handle(scopePublish, none, a.publish))
	rt.POST("/v1/events/batch", a.handle(scopePublish, none, a.publishBatch))
	rt.GET("/v1/events", a.handle(scopeAdmin, query("type", "since", "until", "limit", "cursor"), a.listEvents))
	rt.GET("/v1/events/:id", a.handle(scopeAdmin, none, a.getEvent))

	rt.POST("/v1/webhooks", a.handle(scopeAdmin, none, a.createWebhook))
	rt.GET("/v1/webhooks", a.handle(scopeAdmin, page, a.listWebhooks))
	rt.GET("/v1/webhooks/:id", a.handle(scopeAdmin, none, a.getWebhook))
	rt.PATCH("/v1/webhooks/:id", a.handle(scopeAdmin, none, a.patchWebhook))
	rt.DELETE("/v1/webhooks/:id", a.handle(scopeAdmin, none, a.deleteWebhook))
	rt.GET("/v1/webhooks/:id/secret", a.handle(scopeAdmin, none, a.getSecret))
	rt.POST("/v1/webhooks/:id/secret/rotate", a.handle(scopeAdmin, none, a.rotateSecret))
	rt.POST("/v1/webhooks/:id/replay", a.handle(scopeAdmin, none, a.replayWebhook))

	rt.GET("/v1/events/:id/deliveries", a.handle(scopeAdmin, query("webhook_id", "status", "limit", "cursor"), a.listDeliveries))
	rt.GET("/v1/deliveries", a.handle(scopeAdmin, query("webhook_id", "event_id", "status", "limit", "cursor"), a.listDeliveries))
	rt.GET("/v1/deliveries/:id", a.handle(scopeAdmin, none, a.getDelivery))
	rt.POST("/v1/deliveries/:id/retry", a.handle(scopeAdmin, none, a.retryDelivery))

	rt.GET("/v1/plugins", a.handle(scopeAdmin, none, a.listPlugins))
	rt.GET("/v1/plugins/:name", a.handle(scopeAdmin, none, a.getPlugin))
	rt.PUT("/v1/plugins/:name", a.handleLimit(scopeAdmin, pluginQuery, a.opts.MaxModuleBytes+1<<20, a.putPlugin))
	rt.DELETE("/v1/plugins/:name", a.handle(scopeAdmin, none, a.deletePlugin))
	rt.POST("/v1/plugins/:name/invoke", a.handle(scopeAdmin, none, a.invokePlugin))

	rt.POST("/v1/admin/backup", a.handle(scopeAdmin, none, a.backup))
	return rt
}

// handlerFunc is a handler that reports failure by returning an error.
type handlerFunc func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error

// handle wraps h with authentication for scope, the check of the query
// parameters q declares, a body size cap and error rendering.
func (a *API) handle(scope string, q params, h handlerFunc) httprouter.Handle {
	return a.handleLimit(scope, q, a.opts.MaxBodyBytes, h)
}

// handleLimit is handle with a body cap of its own, for the routes that take
// more than server.max_body_bytes (plugin modules).
func (a *API) handleLimit(scope string, q params, maxBody int64, h handlerFunc) httprouter.Handle {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		keyName, err := a.authorize(r, scope)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if keyName != "" {
			r = r.WithContext(withAPIKeyName(r.Context(), keyName))
		}
		if err := q.check(r.URL.RawQuery); err != nil {
			a.writeError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := decodedBody(w, r, maxBody); err != nil {
			a.writeError(w, r, err)
			return
		}
		if err := h(w, r, ps); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// authorize checks the bearer token against every key in constant time
// and returns the name of the key that matched ("" when the route or the
// API is open). Every refusal is an audit line.
func (a *API) authorize(r *http.Request, scope string) (string, error) {
	if scope == scopeNone || len(a.keys) == 0 {
		return "", nil
	}
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		a.opts.Audit.AuthFailed(r.RemoteAddr, "missing API key", "")
		return "", &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "missing API key: send Authorization: Bearer <key>"}
	}
	digest := sha256.Sum256([]byte(token))
	var match *hashedKey
	for i := range a.keys {
		// No early exit: every key is compared, so timing does not reveal
		// which (if any) matched.
		if subtle.ConstantTimeCompare(digest[:], a.keys[i].digest[:]) == 1 {
			match = &a.keys[i]
		}
	}
	if match == nil {
		a.opts.Audit.AuthFailed(r.RemoteAddr, "invalid API key", audit.KeyHint(token))
		return "", &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "invalid API key"}
	}
	if !slices.Contains(match.scopes, scope) {
		a.opts.Audit.AuthFailed(r.RemoteAddr, "API key "+match.name+" lacks the "+scope+" scope", audit.KeyHint(token))
		return "", &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: "API key " + match.name + " lacks the " + scope + " scope"}
	}
	return match.name, nil
}

// apiKeyCtx is the context key of the name of the API key that
// authenticated the request (handleLimit sets it): idempotency scoping and
// the audit trail read it.
type apiKeyCtx struct{}

func withAPIKeyName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, apiKeyCtx{}, name)
}

// apiKeyName is the name of the API key that sent the request, or "" when
// the API has no keys.
func apiKeyName(ctx context.Context) string {
	name, _ := ctx.Value(apiKeyCtx{}).(string)
	return name
}

// changed writes the audit line of a change that r made.
func (a *API) changed(r *http.Request, kind audit.Kind, action audit.Action, id string) {
	a.opts.Audit.Changed(kind, action, id, apiKeyName(r.Context()))
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// value. The scheme is case-insensitive (RFC 9110, section 11.1), so
// "bearer x" and "BEARER x" work; spaces between scheme and token are
// skipped.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": a.opts.Version})
	return nil
}

func (a *API) readyz(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	if !a.opts.Ready() {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "not ready: starting or shutting down")
	}
	if a.opts.Space != nil {
		if err := a.opts.Space.Err(); err != nil {
			return errorf(http.StatusServiceUnavailable, CodeInsufficientStorage, "", "not ready: %s", err.Error())
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
