package httpapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CloudEvents context attributes beyond the four required ones, checked
// against the CloudEvents 1.0 spec and kept with the event in
// event.Event.CloudEvent:
//
//	id          the producer's id (the gateway assigns its own event id)
//	time        an RFC 3339 timestamp, kept as the producer wrote it
//	subject     a non-empty string
//	dataschema  an absolute URI
//	<extension> name [a-z0-9]{1,20}; value a string, an integer (32-bit),
//	            or a boolean (structured mode); a string (binary mode)
//
// Every string attribute must be a CloudEvents String: no control
// characters (U+0000-U+001F, U+007F-U+009F), at most maxAttrLen bytes. In
// binary mode a header value is printable ASCII, with anything else
// percent-encoded, as the HTTP binding says; the gateway decodes it.

// Limits on CloudEvents attributes.
const (
	maxAttrLen    = 1024
	maxExtNameLen = 20
)

// ceAttrs gathers the attributes kept with the event.
type ceAttrs struct {
	id, time, subject, dataschema string
	ext                           []ceExt
}

type ceExt struct {
	name string
	raw  json.RawMessage // a JSON string, integer or boolean
}

// json renders the attributes as one JSON object: id, time, subject and
// dataschema, then the extensions by name.
func (c *ceAttrs) json() []byte {
	b, _ := appendJSONString([]byte(`{"id":`), c.id)
	for _, f := range [...]struct{ name, v string }{{"time", c.time}, {"subject", c.subject}, {"dataschema", c.dataschema}} {
		if f.v != "" {
			b = append(b, `,"`+f.name+`":`...)
			b, _ = appendJSONString(b, f.v)
		}
	}
	slices.SortFunc(c.ext, func(x, y ceExt) int { return strings.Compare(x.name, y.name) })
	for _, e := range c.ext {
		b = append(b, `,"`+e.name+`":`...)
		b = append(b, e.raw...)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}

// checkCEString checks a CloudEvents String attribute: 1 to max bytes and
// no control characters (the spec's forbidden ranges).
func checkCEString(s string, max int) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(s) > max {
		return fmt.Errorf("is longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return fmt.Errorf("must not contain control characters (U+%04X)", r)
		}
	}
	return nil
}

// setOptional validates the optional attribute name (time, subject or
// dataschema) and records it; ok is false for any other name.
func (c *ceAttrs) setOptional(prefix, name, v string) (ok bool, err error) {
	var dst *string
	switch name {
	case "time":
		dst = &c.time
		if _, perr := time.Parse(time.RFC3339Nano, v); perr != nil {
			return true, validationError(prefix+name, "%s%s: %q is not an RFC 3339 timestamp such as 2026-11-28T10:00:00Z", prefix, name, v)
		}
	case "subject":
		dst = &c.subject
	case "dataschema":
		dst = &c.dataschema
		if u, perr := url.Parse(v); v != "" && (perr != nil || !u.IsAbs()) {
			return true, validationError(prefix+name, "%s%s: must be an absolute URI", prefix, name)
		}
	default:
		return false, nil
	}
	if err := checkCEString(v, maxAttrLen); err != nil {
		return true, validationError(prefix+name, "%s%s: %v", prefix, name, err)
	}
	*dst = v
	return true, nil
}

// checkExtName checks an extension attribute's name.
func checkExtName(field, name string) error {
	ok := name != "" && len(name) <= maxExtNameLen
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if !ok {
		return validationError(field, "%s: CloudEvents attribute names are 1 to %d characters of a-z and 0-9", field, maxExtNameLen)
	}
	return nil
}

// structuredAttrs checks the attributes of a structured-mode CloudEvent m
// beyond the required ones and datacontenttype, data and data_base64.
func structuredAttrs(prefix string, m map[string]json.RawMessage, id string) (*ceAttrs, error) {
	c := &ceAttrs{id: id}
	// By name, so that of two bad attributes the same one is reported.
	for _, name := range slices.Sorted(maps.Keys(m)) {
		raw := m[name]
		switch name {
		case "specversion", "id", "source", "type", "datacontenttype", "data", "data_base64":
			continue
		}
		if string(raw) == "null" {
			continue // an absent attribute, in the JSON format
		}
		var s string
		isString := json.Unmarshal(raw, &s) == nil
		switch name {
		case "time", "subject", "dataschema":
			if !isString {
				return nil, validationError(prefix+name, "%s%s: must be a string", prefix, name)
			}
			if _, err := c.setOptional(prefix, name, s); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkExtName(prefix+name, name); err != nil {
			return nil, err
		}
		switch {
		case isString:
			if err := checkCEString(s, maxAttrLen); err != nil {
				return nil, validationError(prefix+name, "%s%s: %v", prefix, name, err)
			}
		case string(raw) == "true" || string(raw) == "false":
		default:
			if _, err := strconv.ParseInt(string(raw), 10, 32); err != nil {
				return nil, validationError(prefix+name, "%s%s: an extension attribute must be a string, a 32-bit integer or a boolean", prefix, name)
			}
		}
		c.ext = append(c.ext, ceExt{name: name, raw: raw})
	}
	return c, nil
}

// binaryAttrs checks the ce-* headers of a binary-mode CloudEvent: one
// line each, printable ASCII, percent-decoded. It returns the required
// attributes (specversion, id, source, type; "" when absent) and the rest.
func binaryAttrs(h http.Header) (req [4]string, c *ceAttrs, err error) {
	c = &ceAttrs{}
	for _, key := range slices.Sorted(maps.Keys(h)) {
		vs := h[key]
		lower := strings.ToLower(key)
		name, ok := strings.CutPrefix(lower, "ce-")
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return req, nil, badParam(lower, "%s: the header is given %d times; a CloudEvent attribute takes one value", lower, len(vs))
		}
		v, err := headerAttr(lower, vs[0])
		if err != nil {
			return req, nil, err
		}
		switch name {
		case "specversion":
			req[0] = v
		case "id":
			req[1] = v
		case "source":
			req[2] = v
		case "type":
			req[3] = v
		default:
			if ok, err := c.setOptional("ce-", name, v); ok || err != nil {
				if err != nil {
					return req, nil, err
				}
				continue
			}
			if err := checkExtName(lower, name); err != nil {
				return req, nil, err
			}
			if err := checkCEString(v, maxAttrLen); err != nil {
				return req, nil, validationError(lower, "%s: %v", lower, err)
			}
			raw, _ := json.Marshal(v)
			c.ext = append(c.ext, ceExt{name: name, raw: raw})
		}
	}
	c.id = req[1]
	return req, c, nil
}

// headerAttr decodes one ce-* header value: printable ASCII on the wire,
// percent-encoding for the rest (CloudEvents HTTP binding, 3.1.3.2).
func headerAttr(field, v string) (string, error) {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return "", validationError(field, "%s: header values must be printable ASCII; percent-encode other characters (CloudEvents HTTP binding)", field)
		}
	}
	if !strings.Contains(v, "%") {
		return v, nil
	}
	d, err := url.PathUnescape(v)
	if err != nil || !utf8.ValidString(d) {
		return "", validationError(field, "%s: invalid percent-encoding", field)
	}
	return d, nil
}
