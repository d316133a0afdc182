package sdk

import (
	"encoding/json"
	"errors"
	"time"
)

// Event is the event a handler is called with. Its accessors read the meta
// document and the data the host passed; they are cheap and allocate only
// what they return. An Event is valid during the call only: keep values,
// not the Event. Data may be kept (it is never reused), but not modified.
type Event struct {
	id, typ, source, time, webhookID string
	data                             []byte
}

// ID returns the event's id.
func (e *Event) ID() string { return e.id }

// Type returns the event's type, such as "payment.created".
func (e *Event) Type() string { return e.typ }

// Source returns the event's source, or "" if the producer gave none.
func (e *Event) Source() string { return e.source }

// Time returns the time the gateway accepted the event, or the zero Time if
// the host sent none.
func (e *Event) Time() time.Time {
	t, err := time.Parse(time.RFC3339Nano, e.time)
	if err != nil {
		return time.Time{}
	}
	return t
}

// WebhookID returns the id of the webhook whose copy a transform is
// changing, or "" for filters, observers and global transforms.
func (e *Event) WebhookID() string { return e.webhookID }

// Data returns the event's data, the JSON the producer sent. Do not modify
// it.
func (e *Event) Data() []byte { return e.data }

// Decode unmarshals the data into v with encoding/json. To read one or two
// fields, Get is much cheaper.
func (e *Event) Decode(v any) error { return json.Unmarshal(e.data, v) }

// Get returns the value at path in the data, without decoding the rest of
// the document. path is a dotted list of object keys and array indexes:
// "amount", "customer.email", "items.0.sku". Keys that contain a dot can't
// be reached; use Decode. A string comes back unquoted and unescaped; a
// number, true, false or null as its literal text ("12.50", "null"); an
// object or array as its raw JSON text. ok is false when the path is missing
// or runs into something that is not an object or array.
//
// The gateway refuses a published event whose JSON has a key twice in one
// object (also when the two differ only in case), invalid UTF-8 or too deep
// a nesting (400 duplicate_key, invalid_utf8, too_deep). So in an event's
// data every key appears once, and Get reads the value the receiver's
// parser reads. Get itself does not validate the document: on malformed
// JSON (only possible for bytes that did not come through the gateway's
// API) it may return false or the malformed bytes, but never panics; if a
// key appears twice there, the first one wins.
func (e *Event) Get(path string) (value string, ok bool) { return get(e.data, path) }

var errMeta = errors.New("sdk: malformed meta document")

// parseMeta reads the meta document: a JSON object whose known members are
// strings. Unknown members and nulls are skipped.
func (e *Event) parseMeta(meta []byte) error {
	i := skipWS(meta, 0)
	if i >= len(meta) || meta[i] != '{' {
		return errMeta
	}
	i = skipWS(meta, i+1)
	if i < len(meta) && meta[i] == '}' {
		return nil
	}
	for {
		if i >= len(meta) || meta[i] != '"' {
			return errMeta
		}
		ke := skipString(meta, i)
		if ke < 0 {
			return errMeta
		}
		key := meta[i+1 : ke-1]
		i = skipWS(meta, ke)
		if i >= len(meta) || meta[i] != ':' {
			return errMeta
		}
		i = skipWS(meta, i+1)
		ve := skipValue(meta, i)
		if ve < 0 {
			return errMeta
		}
		if meta[i] == '"' {
			var dst *string
			switch string(key) {
			case "id":
				dst = &e.id
			case "type":
				dst = &e.typ
			case "source":
				dst = &e.source
			case "time":
				dst = &e.time
			case "webhook_id":
				dst = &e.webhookID
			}
			if dst != nil {
				s, ok := unquote(meta[i:ve])
				if !ok {
					return errMeta
				}
				*dst = s
			}
		}
		i = skipWS(meta, ve)
		if i >= len(meta) {
			return errMeta
		}
		switch meta[i] {
		case ',':
			i = skipWS(meta, i+1)
		case '}':
			return nil
		default:
			return errMeta
		}
	}
}
