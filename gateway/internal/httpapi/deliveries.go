package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// deliveryView is the API representation of a delivery.
type deliveryView struct {
	ID            string           `json:"id"`
	EventID       string           `json:"event_id"`
	EventType     string           `json:"event_type"`
	WebhookID     string           `json:"webhook_id"`
	Status        string           `json:"status"`
	Attempts      int              `json:"attempts"`
	NextAttemptAt string           `json:"next_attempt_at,omitempty"`
	LastStatus    int              `json:"last_status_code,omitempty"`
	LastError     string           `json:"last_error,omitempty"`
	Note          string           `json:"note,omitempty"`
	CreatedAt     string           `json:"created_at"`
	UpdatedAt     string           `json:"updated_at"`
	AttemptLog    []outbox.Attempt `json:"attempt_log,omitempty"`
}

func viewDelivery(d outbox.Delivery) deliveryView {
	v := deliveryView{
		ID: d.ID(), EventID: d.EventID, EventType: d.EventType, WebhookID: d.WebhookID,
		Status: d.Status, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, Note: d.Note,
		CreatedAt: d.CreatedAt.Format(time.RFC3339Nano), UpdatedAt: d.UpdatedAt.Format(time.RFC3339Nano),
	}
	if !d.NextAttemptAt.IsZero() && !outbox.Finished(d.Status) {
		v.NextAttemptAt = d.NextAttemptAt.UTC().Format(time.RFC3339Nano)
	}
	return v
}

var deliveryStatuses = []string{outbox.StatusPending, outbox.StatusSucceeded, outbox.StatusFailed, outbox.StatusDead, outbox.StatusParked, outbox.StatusDropped}

func (a *API) deliveriesReady() error {
	if a.opts.Deliveries == nil || a.opts.Control == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "delivery is not running")
	}
	return nil
}

// listDeliveries handles GET /v1/deliveries and GET /v1/events/:id/deliveries.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := a.deliveriesReady(); err != nil {
		return err
	}
	qs := r.URL.Query()
	q := store.DeliveryQuery{WebhookID: qs.Get("webhook_id"), Status: qs.Get("status"), After: qs.Get("cursor")}
	if q.Status != "" && !slices.Contains(deliveryStatuses, q.Status) {
		return badParam("status", "status: must be one of %v", deliveryStatuses)
	}
	eventID := ps.ByName("id")
	if eventID == "" {
		eventID = qs.Get("event_id")
	}
	if eventID != "" {
		ev, err := a.opts.Events.Event(r.Context(), eventID)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, CodeNotFound, "event_id", "no event with id %q", eventID)
		}
		if err != nil {
			return err
		}
		q.EventSeq = &ev.Seq
	}
	if q.After != "" {
		if _, _, ok := outbox.ParseID(q.After); !ok {
			return badParam("cursor", "cursor: not a cursor returned by this endpoint")
		}
	}
	var err error
	if q.Limit, err = limitParam(qs.Get("limit")); err != nil {
		return err
	}
	ds, more, err := a.opts.Deliveries.Deliveries(r.Context(), q)
	if err != nil {
		return err
	}
	page := listPage[deliveryView]{Data: make([]deliveryView, len(ds))}
	for i, d := range ds {
		page.Data[i] = viewDelivery(d)
	}
	if more {
		page.NextCursor = ds[len(ds)-1].ID()
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// loadDelivery checks that delivery is running and reads the delivery id.
func (a *API) loadDelivery(ctx context.Context, id string) (outbox.Delivery, error) {
	if err := a.deliveriesReady(); err != nil {
		return outbox.Delivery{}, err
	}
	d, err := a.opts.Deliveries.Delivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return d, errorf(http.StatusNotFound, CodeNotFound, "id", "no delivery with id %q", id)
	}
	return d, err
}

// getDelivery handles GET /v1/deliveries/:id, with its attempts.
func (a *API) getDelivery(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	d, err := a.loadDelivery(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	attempts, err := a.opts.Deliveries.Attempts(r.Context(), d.EventSeq, d.WebhookID)
	if err != nil {
		return err
	}
	v := viewDelivery(d)
	v.AttemptLog = attempts
	if v.AttemptLog == nil {
		v.AttemptLog = []outbox.Attempt{}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// retryDelivery handles POST /v1/deliveries/:id/retry: attempt now.
func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	d, err := a.loadDelivery(r.Context(), ps.ByName("id"))
	if err != nil {
		return err
	}
	d, err = a.opts.Control.Retry(r.Context(), d)
	if errors.Is(err, delivery.ErrWebhookDisabled) {
		return errorf(http.StatusConflict, CodeConflict, "", "webhook %q is disabled; enable it to retry its deliveries", d.WebhookID)
	}
	if errors.Is(err, delivery.ErrEventStopped) {
		return errorf(http.StatusConflict, CodeConflict, "", "event %s: %v", d.EventID, err)
	}
	if err != nil {
		return err
	}
	// A pause of the endpoint (a Retry-After the receiver sent) holds a
	// retry too: the answer says until when, so the caller is not left
	// waiting for an attempt that cannot come yet.
	writeJSON(w, http.StatusAccepted, retryView{viewDelivery(d), a.pauseOf(r.Context(), d.WebhookID)})
	return nil
}

// retryView is a delivery as POST /v1/deliveries/{id}/retry answers it:
// with the pause of its webhook, while one holds the retry back.
type retryView struct {
	deliveryView
	pauseView
}

// pauseView is the pause that holds back a webhook's deliveries, as the
// API shows it; empty while none does.
type pauseView struct {
	PausedUntil string `json:"paused_until,omitempty"`
	PauseReason string `json:"pause_reason,omitempty"`
}

// pauseOf returns webhook id's pause now.
func (a *API) pauseOf(ctx context.Context, id string) pauseView {
	if a.opts.Control == nil {
		return pauseView{}
	}
	p, err := a.opts.Control.Paused(ctx, id)
	if err != nil || p.Until.IsZero() {
		return pauseView{} // no engine (shutting down): nothing holds the deliveries
	}
	return pauseView{PausedUntil: p.Until.UTC().Format(time.RFC3339Nano), PauseReason: p.Reason}
}

// webhookState is a webhook as GET /v1/webhooks/{id} shows it: with the
// pause that holds back its deliveries, while one does.
type webhookState struct {
	webhookView
	pauseView
}

func (a *API) webhookState(ctx context.Context, wh webhook.Webhook) webhookState {
	return webhookState{viewWebhook(wh), a.pauseOf(ctx, wh.ID)}
}

// maxReplay bounds the events one replay request re-delivers.
const maxReplay = 100_000

// replayWebhook handles POST /v1/webhooks/:id/replay with
// {since, until?, status?: [...]}: every event of the webhook's types in the
// time range is delivered again (with the same webhook-id), or only those
// whose delivery has one of the given statuses. Events the plugin pipeline
// stopped are never delivered: the answer counts them as skipped; events
// fan-out has not handled yet are left to it (not_yet_dispatched).
func (a *API) replayWebhook(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := a.deliveriesReady(); err != nil {
		return err
	}
	var body struct {
		Since  *time.Time `json:"since"`
		Until  *time.Time `json:"until"`
		Status []string   `json:"status"`
	}
	if err := a.decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Since == nil {
		return validationError("since", "since: is required (an RFC 3339 time)")
	}
	for i, s := range body.Status {
		if !slices.Contains(deliveryStatuses, s) {
			return validationError("status", "status[%d]: must be one of %v", i, deliveryStatuses)
		}
	}
	wh, err := a.opts.Webhooks.Webhook(r.Context(), ps.ByName("id"))
	if errors.Is(err, store.ErrNotFound) {
		return webhookNotFound(ps.ByName("id"))
	}
	if err != nil {
		return err
	}
	if !wh.Enabled {
		return errorf(http.StatusConflict, CodeConflict, "", "webhook %q is disabled; enable it before replaying", wh.ID)
	}
	patterns, err := wh.Patterns()
	if err != nil {
		return err
	}
	q := store.Query{Since: *body.Since, Limit: 1000}
	if body.Until != nil {
		q.Until = *body.Until
	}
	var ds []outbox.Delivery
	for {
		evs, more, err := a.opts.Events.Events(r.Context(), q)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if !patterns.Match(ev.Type) {
				continue
			}
			fresh := outbox.Delivery{EventSeq: ev.Seq, EventID: ev.ID, EventType: ev.Type, WebhookID: wh.ID}
			d, err := a.opts.Deliveries.Delivery(r.Context(), fresh.ID())
			switch {
			case errors.Is(err, store.ErrNotFound):
				if len(body.Status) > 0 {
					continue
				}
				d = fresh
			case err != nil:
				return err
			case len(body.Status) > 0 && !slices.Contains(body.Status, d.Status):
				continue
			}
			ds = append(ds, d)
			if len(ds) > maxReplay {
				return validationError("since", "the range holds more than %d events; replay a shorter range", maxReplay)
			}
		}
		if !more {
			break
		}
		q.Before = evs[len(evs)-1].Seq
	}
	slices.Reverse(ds) // oldest first, so that they are queued in event order
	res, err := a.opts.Control.Replay(r.Context(), wh, ds)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

// decodeJSON decodes a JSON request body strictly into v.
func (a *API) decodeJSON(r *http.Request, v any) error {
	mt, err := mediaType(r.Header)
	if err != nil {
		return err
	}
	if !isJSONMedia(mt) {
		return unsupported(mt)
	}
	raw, err := readBody(r)
	if err != nil {
		return err
	}
	return a.strictUnmarshal(raw, v, "")
}
