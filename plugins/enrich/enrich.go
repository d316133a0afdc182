package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/eventgw/gateway/sdk"
)

// field is one value to add: a static value, or one computed from the
// event.
type field struct {
	path  []string
	value func(e *sdk.Event) (string, bool)
}

// rules is the parsed config.
type rules struct {
	fields    []field
	overwrite bool
}

// loadRules parses the config read through get (sdk.Config in the plugin).
func loadRules(get func(string) (string, bool)) (*rules, error) {
	r := &rules{}
	if v, ok := get("overwrite"); ok {
		switch strings.TrimSpace(v) {
		case "true":
			r.overwrite = true
		case "false", "":
		default:
			return nil, fmt.Errorf("enrich: overwrite %q: want true or false", v)
		}
	}
	v, _ := get("add")
	for _, item := range splitList(v) {
		k, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("enrich: add %q: want path=value", item)
		}
		val = strings.TrimSpace(val)
		if err := r.addField("add", strings.TrimSpace(k), func(*sdk.Event) (string, bool) { return val, true }); err != nil {
			return nil, err
		}
	}
	if v, ok := get("received_at"); ok && strings.TrimSpace(v) != "" {
		if err := r.addField("received_at", strings.TrimSpace(v), receivedAt); err != nil {
			return nil, err
		}
	}
	if v, ok := get("type_prefix"); ok && strings.TrimSpace(v) != "" {
		if err := r.addField("type_prefix", strings.TrimSpace(v), typePrefix); err != nil {
			return nil, err
		}
	}
	salt, _ := get("hash_salt")
	v, _ = get("hash")
	for _, item := range splitList(v) {
		k, src, ok := strings.Cut(item, "=")
		src = strings.TrimSpace(src)
		if !ok || src == "" {
			return nil, fmt.Errorf("enrich: hash %q: want target=source, such as customer_key=customer.email", item)
		}
		if err := r.addField("hash", strings.TrimSpace(k), hashOf(salt, src)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *rules) addField(key, path string, value func(*sdk.Event) (string, bool)) error {
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			return fmt.Errorf("enrich: %s: path %q has an empty segment", key, path)
		}
	}
	r.fields = append(r.fields, field{path: segs, value: value})
	return nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// receivedAt is the time the gateway accepted the event, in RFC 3339 with
// nanoseconds, UTC.
func receivedAt(e *sdk.Event) (string, bool) {
	t := e.Time()
	if t.IsZero() {
		return "", false
	}
	return t.UTC().Format(time.RFC3339Nano), true
}

// typePrefix is the event type's first segment: "payment" for
// "payment.created".
func typePrefix(e *sdk.Event) (string, bool) {
	t, _, _ := strings.Cut(e.Type(), ".")
	return t, t != ""
}

// hashOf returns the hex SHA-256 of salt followed by the value at path (its
// e.Get text), or false when the path is missing.
func hashOf(salt, path string) func(*sdk.Event) (string, bool) {
	return func(e *sdk.Event) (string, bool) {
		v, ok := e.Get(path)
		if !ok {
			return "", false
		}
		sum := sha256.Sum256([]byte(salt + v))
		return hex.EncodeToString(sum[:]), true
	}
}

// apply adds the fields to the data, which must be a JSON object. A field
// whose value can't be computed is skipped, as is one that exists already
// unless overwrite is set, and one whose parent is not an object (that
// case is logged). changed is false when nothing was added.
func (r *rules) apply(e *sdk.Event) (out []byte, changed bool, err error) {
	if len(r.fields) == 0 {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(e.Data()))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil || root == nil {
		return nil, false, fmt.Errorf("enrich: data is not a JSON object")
	}
	for _, f := range r.fields {
		v, ok := f.value(e)
		if !ok {
			continue
		}
		m := root
		for _, seg := range f.path[:len(f.path)-1] {
			next, exists := m[seg]
			if !exists {
				child := map[string]any{}
				m[seg] = child
				m = child
				continue
			}
			child, isObj := next.(map[string]any)
			if !isObj {
				sdk.Warn("enrich: " + strings.Join(f.path, ".") + ": " + seg + " is not an object; field skipped")
				m = nil
				break
			}
			m = child
		}
		if m == nil {
			continue
		}
		last := f.path[len(f.path)-1]
		if _, exists := m[last]; exists && !r.overwrite {
			continue
		}
		m[last] = v
		changed = true
	}
	if !changed {
		return nil, false, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, false, fmt.Errorf("enrich: encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true, nil
}
