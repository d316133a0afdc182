package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/diskspace"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// Page sizes for list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 1000
	// maxPageBytes ends a page of events early once it holds this much
	// event data; next_cursor continues it. 1000 events of 1 MiB would
	// otherwise be buffered as one 1 GiB answer.
	maxPageBytes = 4 << 20
)

// receipt is the answer to a publish: what was stored.
type receipt struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Time     string `json:"time"`
	Replayed bool   `json:"replayed,omitempty"`
}

func receiptOf(a store.Appended) receipt {
	return receipt{ID: a.Event.ID, Type: a.Event.Type, Time: a.Event.Time.Format(time.RFC3339Nano), Replayed: a.Replayed}
}

// publish handles POST /v1/events.
func (a *API) publish(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, release, err := a.readIngestBody(r)
	defer release()
	if err != nil {
		return err
	}
	d, err := DecodeEvent(r.Header, body, a.opts.MaxJSONDepth)
	if err != nil {
		return err
	}
	res, err := a.append(r, []store.Draft{d})
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if res[0].Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	rc := receiptOf(res[0])
	rc.Replayed = false // the header says it; keep the body shape fixed
	writeJSON(w, status, rc)
	return nil
}

// publishBatch handles POST /v1/events/batch. The batch is atomic.
func (a *API) publishBatch(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	body, release, err := a.readIngestBody(r)
	defer release()
	if err != nil {
		return err
	}
	drafts, err := DecodeBatch(r.Header, body, a.opts.MaxBatchEvents, a.opts.MaxJSONDepth)
	if err != nil {
		return err
	}
	res, err := a.append(r, drafts)
	if err != nil {
		return err
	}
	out := make([]receipt, len(res))
	allReplayed := true
	for i, x := range res {
		out[i] = receiptOf(x)
		allReplayed = allReplayed && x.Replayed
	}
	status := http.StatusAccepted
	if allReplayed {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	writeJSON(w, status, listPage[receipt]{Data: out})
	return nil
}

// append stores drafts. A retried request is resolved from its
// idempotency keys first, so the ingest filters see each event once,
// however often a client retries it: a request that only replays stored
// events is answered without them, and a key reused with another body is
// refused without them.
func (a *API) append(r *http.Request, drafts []store.Draft) ([]store.Appended, error) {
	scopeIdemKeys(drafts, apiKeyName(r.Context()))
	if a.opts.IngestFilter != nil && (a.opts.HasIngestFilters == nil || a.opts.HasIngestFilters()) {
		var known []store.Appended
		if hasIdempotencyKey(drafts) {
			var err error
			if known, err = a.opts.Appender.Replays(r.Context(), drafts); err != nil {
				return nil, appendError(err)
			}
			if allReplayed(known) {
				return known, nil
			}
		}
		if err := a.ingestFilter(r, drafts, known); err != nil {
			return nil, err
		}
	}
	res, err := a.opts.Appender.Append(r.Context(), drafts)
	if err != nil {
		return nil, appendError(err)
	}
	return res, nil
}

// appendError maps the store's refusals of an append to API errors.
func appendError(err error) error {
	switch {
	case errors.Is(err, store.ErrIdempotencyConflict):
		// 422, as the IETF Idempotency-Key draft says; 409 would mean a
		// request still in progress.
		return errorf(http.StatusUnprocessableEntity, CodeIdempotencyConflict, "", "this idempotency key (Idempotency-Key header, event id or CloudEvents source+id) was already used with a different request")
	case errors.Is(err, store.ErrIDTaken):
		return errorf(http.StatusConflict, CodeConflict, "id", "an event with this id already exists and its idempotency window has passed; ids are never reused")
	case errors.Is(err, store.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "the events do not fit into one transaction; send smaller batches")
	case errors.Is(err, store.ErrNoSpace):
		// 507 (RFC 4918): the request was fine and may succeed later, once
		// space is freed; nothing of it was stored.
		msg := "the data directory is short of free space (storage.min_free_bytes)"
		if low := (*diskspace.LowError)(nil); errors.As(err, &low) {
			msg = low.Error()
		}
		return errorf(http.StatusInsufficientStorage, CodeInsufficientStorage, "", "%s; nothing was stored, retry later", msg)
	case errors.Is(err, store.ErrClosed):
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "the gateway is shutting down; retry with the same idempotency key")
	case errors.Is(err, store.ErrNotSynced):
		// The events were committed, but the disk did not confirm them:
		// not acknowledged. A retry with the same idempotency key replays
		// them once they are synced, and stores nothing twice.
		e := errorf(http.StatusServiceUnavailable, CodeUnavailable, "", "the events could not be synced to disk and may or may not be stored; retry with the same idempotency key")
		e.RetryAfter = 1
		return e
	}
	return err
}

func hasIdempotencyKey(drafts []store.Draft) bool {
	for _, d := range drafts {
		if d.IdemKey != "" {
			return true
		}
	}
	return false
}

func allReplayed(res []store.Appended) bool {
	for _, x := range res {
		if !x.Replayed {
			return false
		}
	}
	return true
}

// eventView is the API representation of a stored event.
type eventView struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source,omitempty"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data"`
	// CloudEvent is the event's other CloudEvents attributes, if it came
	// as a CloudEvent (event.Event.CloudEvent).
	CloudEvent json.RawMessage `json:"cloudevent,omitempty"`
	Status     string          `json:"status"`
	// Verdicts are the plugin stages that ran for the event, in order.
	Verdicts []pipeline.Verdict `json:"verdicts,omitempty"`
}

// view renders ev. Its status is pending until every durable subscriber has
// handled it, then dispatched, or denied when a filter (or a dropping
// transform) stopped it.
func (a *API) view(ctx context.Context, ev event.Event) (eventView, error) {
	v := eventView{ID: ev.ID, Type: ev.Type, Source: ev.Source, Time: ev.Time.Format(time.RFC3339Nano), Data: ev.Data, CloudEvent: ev.CloudEvent, Status: event.StatusPending}
	if a.opts.Progress == nil || a.opts.Progress.Dispatched(ev.Seq) {
		v.Status = event.StatusDispatched
	}
	o, ok, err := a.opts.Events.Outcome(ctx, ev.Seq)
	if err != nil || !ok {
		return v, err
	}
	v.Verdicts = o.Verdicts
	if o.Stopped {
		v.Status = event.StatusDenied
	}
	return v, nil
}

// getEvent handles GET /v1/events/:id.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	ev, err := a.opts.Events.Event(r.Context(), ps.ByName("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, CodeNotFound, "id", "no event with id %q", ps.ByName("id"))
	}
	if err != nil {
		return err
	}
	v, err := a.view(r.Context(), ev)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// listEvents handles GET /v1/events: newest first, filtered by type, since
// and until, paginated by cursor.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	qs := r.URL.Query()
	q := store.Query{Type: qs.Get("type"), MaxBytes: maxPageBytes}
	if q.Type != "" {
		if err := event.ValidateType(q.Type); err != nil {
			return badParam("type", "type: %v", err)
		}
	}
	var err error
	if q.Since, err = timeParam(qs.Get("since"), "since"); err != nil {
		return err
	}
	if q.Until, err = timeParam(qs.Get("until"), "until"); err != nil {
		return err
	}
	if q.Limit, err = limitParam(qs.Get("limit")); err != nil {
		return err
	}
	if c := qs.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) != len(q.Before) {
			return badParam("cursor", "cursor: not a cursor returned by this endpoint")
		}
		copy(q.Before[:], b)
	}
	evs, more, err := a.opts.Events.Events(r.Context(), q)
	if err != nil {
		return err
	}
	page := listPage[eventView]{Data: make([]eventView, len(evs))}
	for i, ev := range evs {
		if page.Data[i], err = a.view(r.Context(), ev); err != nil {
			return err
		}
	}
	if more {
		last := evs[len(evs)-1].Seq
		page.NextCursor = base64.RawURLEncoding.EncodeToString(last[:])
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// listPage is the envelope of every list endpoint.
type listPage[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, badParam(name, "%s: must be an RFC 3339 time such as 2026-11-28T10:00:00Z", name)
	}
	return t, nil
}

func limitParam(v string) (int, error) {
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badParam("limit", "limit: must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

// ingestFilter runs the ingest-stage filter plugins on every draft that is
// new: not replayed from a stored event (known, from Appender.Replays; nil
// when no draft has a key), and not a repeat of an earlier draft of the
// request with the same key. The first deny refuses the whole request with
// 403, before anything is stored; a filter that failed under on_error: deny
// refuses it with 503 and Retry-After instead (filterFailed).
func (a *API) ingestFilter(r *http.Request, drafts []store.Draft, known []store.Appended) error {
	now := time.Now().UTC()
	seen := make(map[string]bool)
	for i, d := range drafts {
		if d.IdemKey != "" {
			if seen[d.IdemKey] || known != nil && known[i].Replayed {
				continue
			}
			seen[d.IdemKey] = true
		}
		ev := event.Event{ID: d.ID, Type: d.Type, Source: d.Source, Time: now, Data: d.Data, CloudEvent: d.CloudEvent}
		denied, v := a.opts.IngestFilter(r.Context(), &ev)
		if !denied {
			continue
		}
		field := ""
		if len(drafts) > 1 {
			field = "events[" + strconv.Itoa(i) + "]"
		}
		if v.Failed() {
			return filterFailed(v.Plugin, field)
		}
		msg := v.Reason
		if msg == "" {
			msg = "denied by plugin " + v.Plugin
		}
		return &Error{Status: http.StatusForbidden, Code: CodeDenied, Message: msg, Field: field}
	}
	return nil
}
