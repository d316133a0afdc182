package httpapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// webhookBody is the JSON body of create and patch. Nil means "not given".
type webhookBody struct {
	URL         *string            `json:"url"`
	EventTypes  *[]string          `json:"event_types"`
	Description *string            `json:"description"`
	Secret      *string            `json:"secret"`
	Headers     *map[string]string `json:"headers"`
	Enabled     *bool              `json:"enabled"`
	MaxInFlight *int               `json:"max_in_flight"`
	RateLimit   *float64           `json:"rate_limit"`
	Retry       *webhook.Durations `json:"retry_schedule"`
	Ordered     *bool              `json:"ordered"`
	Transform   *string            `json:"transform"`
	// SignatureScheme picks the generated secret's kind on create: "v1"
	// (HMAC, the default) or "v1a" (Ed25519).
	SignatureScheme *string `json:"signature_scheme"`
	// DiscardParked, on a PATCH, drops the parked deliveries (recorded as
	// dead with a note) instead of sending them when the webhook is enabled.
	DiscardParked bool `json:"discard_parked"`
}

func (b webhookBody) spec() webhook.Spec {
	return webhook.Spec{
		URL: b.URL, EventTypes: b.EventTypes, Description: b.Description, Secret: b.Secret, Headers: b.Headers, Enabled: b.Enabled,
		Delivery: webhook.DeliverySpec{MaxInFlight: b.MaxInFlight, RateLimit: b.RateLimit, RetrySchedule: b.Retry, Ordered: b.Ordered, Transform: b.Transform},
	}
}

// changesManaged reports whether b touches a field that the config file
// owns.
func (b webhookBody) changesManaged() bool {
	return b.URL != nil || b.EventTypes != nil || b.Description != nil || b.Headers != nil ||
		b.MaxInFlight != nil || b.RateLimit != nil || b.Retry != nil || b.Ordered != nil || b.Transform != nil
}

// action is the audit action of a PATCH with body b: enable or disable
// when it changes only "enabled", update otherwise.
func (b webhookBody) action() audit.Action {
	switch {
	case b.Enabled == nil || b.changesManaged():
		return audit.ActionUpdate
	case *b.Enabled:
		return audit.ActionEnable
	}
	return audit.ActionDisable
}

// webhookView is the API representation of a webhook. Secret is set only in
// the create and rotate answers of a v1 webhook (viewWithSecret); a v1a
// webhook's private key is never shown, only its PublicKey.
type webhookView struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	EventTypes  []string          `json:"event_types"`
	Description string            `json:"description"`
	Headers     map[string]string `json:"headers"`
	Enabled     bool              `json:"enabled"`
	Secret      string            `json:"secret,omitempty"`
	SecretHint  string            `json:"secret_hint"`
	ManagedBy   string            `json:"managed_by,omitempty"`
	// PublicKey is the "whpk_" key receivers verify v1a signatures with.
	PublicKey      string `json:"public_key,omitempty"`
	DisabledReason string `json:"disabled_reason,omitempty"`
	webhook.Delivery
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// viewWebhook is the view of w in every answer. Header values are masked
// (webhook.HeaderHint): they are write-only, like the secret.
func viewWebhook(w webhook.Webhook) webhookView {
	return webhookView{
		ID: w.ID, URL: w.URL, EventTypes: w.EventTypes, Description: w.Description, Headers: webhook.MaskHeaders(w.Headers),
		Enabled: w.Enabled, SecretHint: webhook.SecretHint(w.Secret), ManagedBy: w.Managed, Delivery: w.Delivery,
		PublicKey: webhook.PublicKey(w.Secret), DisabledReason: w.DisabledReason,
		CreatedAt: w.CreatedAt.Format(time.RFC3339Nano), UpdatedAt: w.UpdatedAt.Format(time.RFC3339Nano),
	}
}

// viewWithSecret is the view in the create and rotate answers: a v1
// webhook's "whsec_" secret in full, since its receiver needs it. A v1a
// webhook's "whsk_" private key is never shown; its public_key is what the
// receiver needs.
func viewWithSecret(w webhook.Webhook) webhookView {
	v := viewWebhook(w)
	if strings.HasPrefix(w.Secret, webhook.SecretPrefix) {
		v.Secret = w.Secret
	}
	return v
}

func (a *API) decodeWebhookBody(r *http.Request) (webhookBody, error) {
	var b webhookBody
	mt, err := mediaType(r.Header)
	if err != nil {
		return b, err
	}
	if !isJSONMedia(mt) {
		return b, unsupported(mt)
	}
	raw, err := readBody(r)
	if err != nil {
		return b, err
	}
	return b, a.strictUnmarshal(raw, &b, "")
}

// createWebhook handles POST /v1/webhooks.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	b, err := a.decodeWebhookBody(r)
	if err != nil {
		return err
	}
	spec := b.spec()
	if ps := spec.Validate(true); len(ps) > 0 {
		return problemsError("", ps)
	}
	if b.Headers != nil {
		if _, ps := webhook.UnmaskHeaders(*b.Headers, nil); len(ps) > 0 {
			return problemsError("", ps)
		}
	}
	if err := a.checkURL(b.URL); err != nil {
		return err
	}
	if err := a.checkTransform(b.Transform); err != nil {
		return err
	}
	scheme := "v1"
	if b.SignatureScheme != nil {
		scheme = *b.SignatureScheme
	}
	if scheme != "v1" && scheme != "v1a" {
		return validationError("signature_scheme", "signature_scheme: must be \"v1\" (HMAC-SHA256) or \"v1a\" (Ed25519), got %q", scheme)
	}
	if b.DiscardParked {
		return validationError("discard_parked", "discard_parked: only applies to PATCH")
	}
	now := time.Now().UTC()
	seq := a.opts.NewID()
	wh := webhook.Webhook{ID: webhook.IDPrefix + seq.String(), Enabled: true, CreatedAt: now, UpdatedAt: now}
	spec.Apply(&wh)
	if wh.Secret == "" {
		wh.Secret = newSecret(scheme)
	}
	_, err = a.opts.Webhooks.MutateWebhook(r.Context(), wh.ID, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur != nil {
			return nil, errorf(http.StatusConflict, CodeConflict, "id", "webhook %q already exists", wh.ID)
		}
		return &wh, nil
	})
	if err != nil {
		return err
	}
	a.changed(r, audit.KindWebhook, audit.ActionCreate, wh.ID)
	if err := a.webhookChanged(r, wh.ID); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/webhooks/"+wh.ID)
	writeJSON(w, http.StatusCreated, viewWithSecret(wh))
	return nil
}

func webhookNotFound(id string) error {
	return errorf(http.StatusNotFound, CodeNotFound, "id", "no webhook with id %q", id)
}

// loadWebhook reads the webhook the :id parameter names.
func (a *API) loadWebhook(r *http.Request, ps httprouter.Params) (webhook.Webhook, error) {
	wh, err := a.opts.Webhooks.Webhook(r.Context(), ps.ByName("id"))
	if errors.Is(err, store.ErrNotFound) {
		return wh, webhookNotFound(ps.ByName("id"))
	}
	return wh, err
}

// getWebhook handles GET /v1/webhooks/:id.
func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	wh, err := a.loadWebhook(r, ps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.webhookState(r.Context(), wh))
	return nil
}

// getSecret handles GET /v1/webhooks/:id/secret, shaped like Svix's "get
// endpoint secret": {"key": ...}, the key its receiver verifies with. That
// is the "whsec_" secret of a v1 webhook and the "whpk_" public key of a
// v1a one, never its "whsk_" private key. It serves every webhook, so the
// secret the gateway generated for a config webhook without one can be
// read without rotating it.
func (a *API) getSecret(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	wh, err := a.loadWebhook(r, ps)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"key": webhook.VerificationKey(wh.Secret)})
	return nil
}

// listWebhooks handles GET /v1/webhooks.
func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	qs := r.URL.Query()
	limit, err := limitParam(qs.Get("limit"))
	if err != nil {
		return err
	}
	var before string
	if c := qs.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			return badParam("cursor", "cursor: not a cursor returned by this endpoint")
		}
		before = string(b)
	}
	ws, more, err := a.opts.Webhooks.Webhooks(r.Context(), before, limit)
	if err != nil {
		return err
	}
	page := listPage[webhookView]{Data: make([]webhookView, len(ws))}
	for i, wh := range ws {
		page.Data[i] = viewWebhook(wh)
	}
	if more {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(ws[len(ws)-1].ID))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// patchWebhook handles PATCH /v1/webhooks/:id. Given fields replace the
// stored ones. Webhooks managed by the config file only take "enabled".
func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	b, err := a.decodeWebhookBody(r)
	if err != nil {
		return err
	}
	if b.Secret != nil {
		return validationError("secret", "secret: cannot be changed with PATCH; use POST /v1/webhooks/{id}/secret/rotate")
	}
	if b.SignatureScheme != nil {
		return validationError("signature_scheme", "signature_scheme: is chosen at creation; rotate with a secret of the other kind to change it")
	}
	if err := a.checkURL(b.URL); err != nil {
		return err
	}
	if err := a.checkTransform(b.Transform); err != nil {
		return err
	}
	spec := b.spec()
	if ps := spec.Validate(false); len(ps) > 0 {
		return problemsError("", ps)
	}
	id := ps.ByName("id")
	updated, err := a.opts.Webhooks.MutateWebhook(r.Context(), id, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur == nil {
			return nil, webhookNotFound(id)
		}
		if cur.Managed != "" && b.changesManaged() {
			return nil, errorf(http.StatusConflict, CodeManagedByConfig, "", "webhook %q is managed by the config file; change it there (only \"enabled\" can be changed through the API)", id)
		}
		next, s := *cur, spec
		if b.Headers != nil {
			// Masked values sent back keep the stored ones.
			h, ps := webhook.UnmaskHeaders(*b.Headers, cur.Headers)
			if len(ps) > 0 {
				return nil, problemsError("", ps)
			}
			s.Headers = &h
		}
		s.Apply(&next)
		if next.Enabled {
			next.DisabledReason = ""
		}
		next.UpdatedAt = time.Now().UTC()
		return &next, nil
	})
	if err != nil {
		return err
	}
	a.changed(r, audit.KindWebhook, b.action(), id)
	if b.DiscardParked {
		if err := a.deliveriesReady(); err != nil {
			return err
		}
		n, err := a.opts.Control.DiscardParked(r.Context(), id)
		if err != nil {
			return err
		}
		a.logger.Info("parked deliveries discarded through the API", "webhook", id, "count", n)
	}
	if err := a.webhookChanged(r, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewWebhook(*updated))
	return nil
}

// deleteWebhook handles DELETE /v1/webhooks/:id.
func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	id := ps.ByName("id")
	_, err := a.opts.Webhooks.MutateWebhook(r.Context(), id, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur == nil {
			return nil, webhookNotFound(id)
		}
		if cur.Managed != "" {
			return nil, errorf(http.StatusConflict, CodeManagedByConfig, "", "webhook %q is managed by the config file; remove it there", id)
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	a.changed(r, audit.KindWebhook, audit.ActionDelete, id)
	if err := a.webhookChanged(r, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateSecret handles POST /v1/webhooks/:id/secret/rotate with an optional
// {"secret": "..."}: the new secret (generated, of the same kind, unless
// given) signs from now on, and the old one keeps signing beside it for
// delivery.secret_overlap.
func (a *API) rotateSecret(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	var b struct {
		Secret *string `json:"secret"`
	}
	if r.ContentLength != 0 {
		if err := a.decodeJSON(r, &b); err != nil {
			return err
		}
	}
	if b.Secret != nil {
		if err := webhook.ValidateSecret(*b.Secret); err != nil {
			return validationError("secret", "secret: %v", err)
		}
	}
	id := ps.ByName("id")
	now := time.Now().UTC()
	updated, err := a.opts.Webhooks.MutateWebhook(r.Context(), id, func(cur *webhook.Webhook) (*webhook.Webhook, error) {
		if cur == nil {
			return nil, webhookNotFound(id)
		}
		if cur.Managed != "" && cur.ConfigSecret {
			return nil, errorf(http.StatusConflict, CodeManagedByConfig, "", "webhook %q takes its secret from the config file; change it there (the old one keeps signing for delivery.secret_overlap)", id)
		}
		next := *cur
		secret := newSecret(schemeOf(cur.Secret))
		if b.Secret != nil {
			secret = *b.Secret
		}
		next.Rotate(secret, now, a.opts.SecretOverlap)
		next.UpdatedAt = now
		return &next, nil
	})
	if err != nil {
		return err
	}
	a.changed(r, audit.KindWebhook, audit.ActionRotate, id)
	if err := a.webhookChanged(r, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		webhookView
		PreviousSecretExpiresAt string `json:"previous_secret_expires_at,omitempty"`
	}{viewWithSecret(*updated), now.Add(a.opts.SecretOverlap).Format(time.RFC3339Nano)})
	return nil
}

func newSecret(scheme string) string {
	if scheme == "v1a" {
		return webhook.NewAsymmetricSecret()
	}
	return webhook.NewSecret()
}

func schemeOf(secret string) string {
	if webhook.PublicKey(secret) != "" {
		return "v1a"
	}
	return "v1"
}

// checkTransform refuses a webhook transform that names no loaded
// transform plugin.
func (a *API) checkTransform(name *string) error {
	if name == nil || *name == "" || a.opts.Plugins == nil {
		return nil
	}
	for _, p := range a.opts.Plugins.List() {
		if p.Name == *name {
			if p.Kind != "transform" {
				return validationError("transform", "transform: plugin %q is a %s, not a transform", *name, p.Kind)
			}
			return nil
		}
	}
	return validationError("transform", "transform: no plugin named %q is loaded", *name)
}

// checkURL runs the egress guard's registration check on a URL.
func (a *API) checkURL(u *string) error {
	if u == nil || a.opts.CheckURL == nil {
		return nil
	}
	if err := a.opts.CheckURL(*u); err != nil {
		return validationError("url", "url: %v", err)
	}
	return nil
}

// webhookChanged tells the delivery engine about a registration change.
func (a *API) webhookChanged(r *http.Request, id string) error {
	if a.opts.Control == nil {
		return nil
	}
	return a.opts.Control.WebhookChanged(r.Context(), id)
}
