package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// CloudEvents 1.0 over HTTP (cloudevents/spec bindings/http-protocol-binding.md).
//
// Mapping onto a gateway event:
//
//	type      -> type (must also follow the gateway's type syntax)
//	source    -> source
//	id        -> idempotency key, scoped by source as the spec scopes it
//	data      -> data (JSON only; data_base64 must decode to JSON)
//	id, time, subject, dataschema, extensions -> cloudevent (ceattrs.go)
//
// The gateway assigns its own event id and receipt time; CloudEvents ids are
// only unique per source and need not fit the gateway's id syntax.

const ceSpecVersion = "1.0"

// ceKey is the idempotency key of a CloudEvent.
func ceKey(source, id string) string { return idemCE + source + "\x00" + id }

// decodeStructuredCE decodes one structured-mode CloudEvent.
// raw has passed checkJSON; data_base64 must pass it with maxDepth too.
func decodeStructuredCE(raw []byte, prefix string, maxDepth int) (store.Draft, error) {
	var m map[string]json.RawMessage
	if err := decodeChecked(raw, &m, prefix); err != nil {
		return store.Draft{}, err
	}
	attr := func(name string) (string, bool, error) {
		v, ok := m[name]
		if !ok || string(v) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", true, validationError(prefix+name, "%s%s: must be a string", prefix, name)
		}
		return s, true, nil
	}
	var attrs [5]string
	for i, name := range [...]string{"specversion", "id", "source", "type", "datacontenttype"} {
		s, present, err := attr(name)
		if err != nil {
			return store.Draft{}, err
		}
		if !present && name != "datacontenttype" {
			return store.Draft{}, validationError(prefix+name, "%s%s: is required in a CloudEvent", prefix, name)
		}
		attrs[i] = s
	}
	d, err := ceDraft(prefix, attrs[0], attrs[1], attrs[2], attrs[3])
	if err != nil {
		return d, err
	}
	more, err := structuredAttrs(prefix, m, attrs[1])
	if err != nil {
		return d, err
	}
	d.CloudEvent = more.json()
	if ct := attrs[4]; ct != "" {
		mt, _, perr := mime.ParseMediaType(ct)
		if perr != nil || !isJSONMedia(mt) {
			return d, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, prefix+"datacontenttype", "%sdatacontenttype %q is not supported; the gateway stores JSON data only", prefix, ct)
		}
	}
	data, hasData := m["data"]
	b64, hasB64 := m["data_base64"]
	switch {
	case hasData && hasB64:
		return d, validationError(prefix+"data_base64", "%sdata and data_base64 are mutually exclusive", prefix)
	case hasB64:
		var s string
		if err := json.Unmarshal(b64, &s); err != nil {
			return d, validationError(prefix+"data_base64", "%sdata_base64: must be a base64 string", prefix)
		}
		dec, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return d, validationError(prefix+"data_base64", "%sdata_base64: is not valid base64", prefix)
		}
		if !json.Valid(dec) {
			return d, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, prefix+"data_base64", "%sdata_base64 does not decode to JSON; the gateway stores JSON data only", prefix)
		}
		if err := checkJSON(dec, maxDepth, prefix+"data_base64: "); err != nil {
			return d, err
		}
		d.Data = dec
	case hasData:
		d.Data = data
	default:
		d.Data = json.RawMessage("null")
	}
	return d, nil
}

// decodeBinaryCE decodes a binary-mode CloudEvent: attributes in ce-*
// headers, data in the body with Content-Type as its datacontenttype.
// JSON data must pass checkJSON with maxDepth.
func decodeBinaryCE(h http.Header, mt string, body []byte, maxDepth int) (store.Draft, error) {
	attrs, more, err := binaryAttrs(h)
	if err != nil {
		return store.Draft{}, err
	}
	for i, name := range [...]string{"specversion", "id", "source", "type"} {
		if attrs[i] == "" {
			return store.Draft{}, validationError("ce-"+name, "ce-%s: header is required in a binary-mode CloudEvent", name)
		}
	}
	d, err := ceDraft("ce-", attrs[0], attrs[1], attrs[2], attrs[3])
	if err != nil {
		return d, err
	}
	d.CloudEvent = more.json()
	if len(bytes.TrimSpace(body)) == 0 {
		d.Data = json.RawMessage("null")
		return d, nil
	}
	if !isJSONMedia(mt) || mt == mediaCE {
		return d, unsupported(mt)
	}
	if err := checkJSON(body, maxDepth, "the CloudEvent's data: "); err != nil {
		return d, err
	}
	d.Data = body
	return d, nil
}

// ceDraft validates the required context attributes shared by both modes.
func ceDraft(prefix, specversion, id, source, typ string) (store.Draft, error) {
	if specversion != ceSpecVersion {
		return store.Draft{}, validationError(prefix+"specversion", "%sspecversion: %q is not supported; only %q is", prefix, specversion, ceSpecVersion)
	}
	if err := checkCEString(id, maxIdemKeyLen); err != nil {
		return store.Draft{}, validationError(prefix+"id", "%sid: %v", prefix, err)
	}
	if err := checkCEString(source, maxSourceLen); err != nil {
		return store.Draft{}, validationError(prefix+"source", "%ssource: %v", prefix, err)
	}
	if err := event.ValidateType(typ); err != nil {
		return store.Draft{}, validationError(prefix+"type", "%stype: %v", prefix, err)
	}
	return store.Draft{Type: typ, Source: source, IdemKey: ceKey(source, id)}, nil
}
