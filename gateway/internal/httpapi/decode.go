package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/jsonstrict"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Limits on ingest fields.
const (
	maxSourceLen  = 1024
	maxIdemKeyLen = 255
)

// Media types the ingest endpoints accept.
const (
	mediaJSON    = "application/json"
	mediaCE      = "application/cloudevents+json"
	mediaCEBatch = "application/cloudevents-batch+json"
)

// Idempotency key namespaces, so that a header key can never collide with a
// client id or a CloudEvents (source, id) pair, nor a single event's header
// key ("k#0") with an item of a batch ("k", item 0).
const (
	idemHeader = "h:"
	idemBatch  = "b:"
	idemID     = "id:"
	idemCE     = "ce:"
)

// eventBody is the plain JSON form of one event.
type eventBody struct {
	ID     *string         `json:"id"`
	Type   *string         `json:"type"`
	Source *string         `json:"source"`
	Data   json.RawMessage `json:"data"`
}

// readBody reads the whole request body, mapping an oversized body to 413.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "request body is larger than the limit of %d bytes%s (server.max_body_bytes)", tooBig.Limit, decompressed(r))
	}
	var bad *Error
	if errors.As(err, &bad) {
		return nil, bad // a broken gzip stream (gzip.go), or the ingest budget (budget.go)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeInvalidJSON, "", "reading request body: %v", err)
	}
	return b, nil
}

// mediaType returns the media type of the request, or a 415.
func mediaType(h http.Header) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "", errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "missing Content-Type; send application/json or a CloudEvent (application/cloudevents+json, or ce-* headers)")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "malformed Content-Type %q", ct)
	}
	return mt, nil
}

// isJSONMedia reports whether mt carries JSON: application/json, text/json
// or any +json suffix.
func isJSONMedia(mt string) bool {
	return mt == mediaJSON || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func unsupported(mt string) *Error {
	return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "Content-Type %q is not supported; send application/json or a CloudEvent (application/cloudevents+json, or ce-* headers)", mt)
}

// DecodeEvent turns a single-event request (headers and body) into a draft.
// It understands plain JSON, CloudEvents structured mode and CloudEvents
// binary mode. It never panics, whatever the input (see FuzzDecodeEvent).
// A JSON body, and a binary-mode CloudEvent's JSON data, must pass
// jsonstrict.Check with maxDepth (ingest.max_json_depth; 0 means 64) first.
//
// An event that names itself (a client id, or a CloudEvent's source and id)
// is its own idempotency key; the Idempotency-Key header only applies to
// events without one. Were the header to win, resending id "x" under a new
// header key would store a second event with the same public id.
func DecodeEvent(h http.Header, body []byte, maxDepth int) (store.Draft, error) {
	mt, err := mediaType(h)
	if err != nil {
		return store.Draft{}, err
	}
	idem, err := idempotencyHeader(h)
	if err != nil {
		return store.Draft{}, err
	}
	var d store.Draft
	switch {
	case h.Get("Ce-Specversion") != "":
		d, err = decodeBinaryCE(h, mt, body, maxDepth)
	case mt == mediaCE:
		if err := checkJSON(body, maxDepth, ""); err != nil {
			return d, err
		}
		d, err = decodeStructuredCE(body, "", maxDepth)
	case isJSONMedia(mt):
		if err := checkJSON(body, maxDepth, ""); err != nil {
			return d, err
		}
		d, err = decodePlain(body, "")
	default:
		return d, unsupported(mt)
	}
	if err != nil {
		return d, err
	}
	if idem != "" && d.IdemKey == "" {
		d.IdemKey = idemHeader + idem
	}
	return d, nil
}

// DecodeBatch turns a batch request into drafts: {"events":[...]} as JSON,
// or a JSON array of CloudEvents (application/cloudevents-batch+json). With
// an Idempotency-Key header, event i gets the key "<key>#<i>" unless it has
// a key of its own (see DecodeEvent), so replaying the same batch replays
// every event. The body must pass jsonstrict.Check with maxDepth, as in
// DecodeEvent.
func DecodeBatch(h http.Header, body []byte, max, maxDepth int) ([]store.Draft, error) {
	mt, err := mediaType(h)
	if err != nil {
		return nil, err
	}
	idem, err := idempotencyHeader(h)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	decodeItem := decodePlain
	switch {
	case mt == mediaCEBatch:
		if err := decodeStrict(body, &items, maxDepth, ""); err != nil {
			return nil, err
		}
		decodeItem = func(raw []byte, prefix string) (store.Draft, error) {
			return decodeStructuredCE(raw, prefix, maxDepth)
		}
	case isJSONMedia(mt) && mt != mediaCE:
		var b struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := decodeStrict(body, &b, maxDepth, ""); err != nil {
			return nil, err
		}
		items = b.Events
	default:
		return nil, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "Content-Type %q is not supported for batches; send application/json ({\"events\":[...]}) or application/cloudevents-batch+json", mt)
	}
	if len(items) == 0 {
		return nil, validationError("events", "events: must contain at least one event")
	}
	if len(items) > max {
		return nil, validationError("events", "events: %d events is more than the limit of %d per batch", len(items), max)
	}
	drafts := make([]store.Draft, len(items))
	for i, raw := range items {
		d, err := decodeItem(raw, fmt.Sprintf("events[%d].", i))
		if err != nil {
			return nil, err
		}
		if idem != "" && d.IdemKey == "" {
			d.IdemKey = fmt.Sprintf("%s%s#%d", idemBatch, idem, i)
		}
		drafts[i] = d
	}
	return drafts, nil
}

func idempotencyHeader(h http.Header) (string, error) {
	k := h.Get("Idempotency-Key")
	if len(k) > maxIdemKeyLen {
		return "", badParam("Idempotency-Key", "Idempotency-Key is longer than %d characters", maxIdemKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < ' ' || k[i] > '~' {
			return "", badParam("Idempotency-Key", "Idempotency-Key must be printable ASCII")
		}
	}
	return k, nil
}

// decodePlain decodes {"type","data","id"?,"source"?}, which checkJSON has
// passed; prefix names the item in a batch ("events[3].").
func decodePlain(raw []byte, prefix string) (store.Draft, error) {
	var b eventBody
	if err := decodeChecked(raw, &b, prefix); err != nil {
		return store.Draft{}, err
	}
	var d store.Draft
	if b.Type == nil {
		return d, validationError(prefix+"type", "%stype: is required", prefix)
	}
	if err := event.ValidateType(*b.Type); err != nil {
		return d, validationError(prefix+"type", "%stype: %v", prefix, err)
	}
	d.Type = *b.Type
	if b.Data == nil {
		return d, validationError(prefix+"data", "%sdata: is required (any JSON value, null included)", prefix)
	}
	d.Data = b.Data
	if b.ID != nil {
		if err := event.ValidateID(*b.ID); err != nil {
			return d, validationError(prefix+"id", "%sid: %v", prefix, err)
		}
		d.ID = *b.ID
		d.IdemKey = idemID + d.ID
	}
	if b.Source != nil {
		if err := validateSource(*b.Source); err != nil {
			return d, validationError(prefix+"source", "%ssource: %v", prefix, err)
		}
		d.Source = *b.Source
	}
	return d, nil
}

// strictUnmarshal is decodeStrict with ingest.max_json_depth: for the
// bodies of the admin API.
func (a *API) strictUnmarshal(raw []byte, v any, prefix string) error {
	return decodeStrict(raw, v, a.opts.MaxJSONDepth, prefix)
}

// decodeStrict is checkJSON, then decodeChecked.
func decodeStrict(raw []byte, v any, maxDepth int, prefix string) error {
	if err := checkJSON(raw, maxDepth, prefix); err != nil {
		return err
	}
	return decodeChecked(raw, v, prefix)
}

// checkJSON refuses, with 400, a body that JSON parsers could read
// differently: duplicate keys, invalid UTF-8, nesting deeper than maxDepth,
// or not JSON at all (jsonstrict has the reasons). Every body the API
// decodes passes it first, so that a plugin, the store and a receiver all
// read the same document.
func checkJSON(raw []byte, maxDepth int, prefix string) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return errorf(http.StatusBadRequest, CodeInvalidJSON, "", "%srequest body is empty; expected a JSON document", prefix)
	}
	err := jsonstrict.Check(raw, maxDepth)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jsonstrict.ErrDuplicateKey):
		return errorf(http.StatusBadRequest, CodeDuplicateKey, "", "%s%v; a key may appear once in an object (keys that differ only in case are the same key)", prefix, err)
	case errors.Is(err, jsonstrict.ErrInvalidUTF8):
		return errorf(http.StatusBadRequest, CodeInvalidUTF8, "", "%s%v; JSON must be valid UTF-8", prefix, err)
	case errors.Is(err, jsonstrict.ErrTooDeep):
		if maxDepth <= 0 {
			maxDepth = jsonstrict.DefaultMaxDepth
		}
		return errorf(http.StatusBadRequest, CodeTooDeep, "", "%s%v; the limit is %d (ingest.max_json_depth)", prefix, err, maxDepth)
	}
	return errorf(http.StatusBadRequest, CodeInvalidJSON, "", "%s%v", prefix, err)
}

// decodeChecked decodes one JSON value that checkJSON has passed into v,
// refusing unknown fields, and maps failures to 422 (wrong shape) or, for
// anything unforeseen, 400. Syntax
// errors and trailing data cannot occur: checkJSON refuses them (Check
// accepts nothing that encoding/json refuses, FuzzCheck), so raw is one
// value and is not scanned for more.
func decodeChecked(raw []byte, v any, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	var durs *webhook.DurationsError
	switch {
	case errors.As(err, &durs):
		return validationError(prefix+"retry_schedule", "%sretry_schedule: %s", prefix, durs.Msg)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return validationError(strings.TrimSuffix(prefix, "."), "%sbody must be a JSON %s, got %s", prefix, kindOf(v), typ.Value)
		}
		return validationError(prefix+typ.Field, "%s%s: must be a JSON %s, got %s", prefix, typ.Field, typ.Type.Kind(), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return validationError(prefix+name, "%s%s: unknown field", prefix, name)
	}
	return errorf(http.StatusBadRequest, CodeInvalidJSON, "", "%sinvalid JSON: %v", prefix, err)
}

func kindOf(v any) string {
	switch v.(type) {
	case *[]json.RawMessage:
		return "array"
	default:
		return "object"
	}
}

func validateSource(s string) error {
	if s == "" {
		return errors.New("must not be empty when given")
	}
	if len(s) > maxSourceLen {
		return fmt.Errorf("is longer than %d characters", maxSourceLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return errors.New("must not contain control characters")
		}
	}
	return nil
}
