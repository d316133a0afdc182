package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// keep is how many trailing characters mask leaves visible.
const keep = 4

// rename is one rename rule: the field at path gets the key to, in the
// same object.
type rename struct {
	path []string
	to   string
}

// ops is the parsed config.
type ops struct {
	drop   [][]string
	rename []rename
	mask   [][]string
	hash   [][]string
	salt   string
}

func (o *ops) empty() bool {
	return len(o.drop) == 0 && len(o.rename) == 0 && len(o.mask) == 0 && len(o.hash) == 0
}

// loadOps parses the config read through get (sdk.Config in the plugin).
func loadOps(get func(string) (string, bool)) (*ops, error) {
	o := &ops{}
	var err error
	if o.drop, err = paths(get, "drop"); err != nil {
		return nil, err
	}
	if o.mask, err = paths(get, "mask"); err != nil {
		return nil, err
	}
	if o.hash, err = paths(get, "hash"); err != nil {
		return nil, err
	}
	o.salt, _ = get("hash_salt")
	v, _ := get("rename")
	for _, item := range splitList(v) {
		from, to, ok := strings.Cut(item, ":")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || to == "" || strings.Contains(to, ".") {
			return nil, fmt.Errorf("redact: rename %q: want path:newkey, such as customer.email:contact", item)
		}
		p, err := parsePath(from)
		if err != nil {
			return nil, fmt.Errorf("redact: rename %q: %w", item, err)
		}
		o.rename = append(o.rename, rename{path: p, to: to})
	}
	return o, nil
}

func paths(get func(string) (string, bool), key string) ([][]string, error) {
	v, _ := get(key)
	var out [][]string
	for _, item := range splitList(v) {
		p, err := parsePath(item)
		if err != nil {
			return nil, fmt.Errorf("redact: %s %q: %w", key, item, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePath(s string) ([]string, error) {
	segs := strings.Split(s, ".")
	for _, seg := range segs {
		if seg == "" {
			return nil, fmt.Errorf("empty path segment")
		}
	}
	return segs, nil
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

// apply runs drop, rename, mask and hash, in that order, on the JSON data.
// changed is false (and out nil) when no path matched.
func (o *ops) apply(data []byte) (out []byte, changed bool, err error) {
	if o.empty() {
		return nil, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, false, fmt.Errorf("redact: data is not JSON: %w", err)
	}
	for _, p := range o.drop {
		visit(root, p, func(parent any, key string) {
			if m, ok := parent.(map[string]any); ok {
				delete(m, key)
				changed = true
			}
		})
	}
	for _, r := range o.rename {
		visit(root, r.path, func(parent any, key string) {
			if m, ok := parent.(map[string]any); ok && key != r.to {
				m[r.to] = m[key]
				delete(m, key)
				changed = true
			}
		})
	}
	replace := func(ps [][]string, fn func(any) string) {
		for _, p := range ps {
			visit(root, p, func(parent any, key string) {
				switch c := parent.(type) {
				case map[string]any:
					c[key] = fn(c[key])
				case []any:
					i, _ := strconv.Atoi(key) // visit passes valid indexes only
					c[i] = fn(c[i])
				}
				changed = true
			})
		}
	}
	replace(o.mask, mask)
	replace(o.hash, func(v any) string { return hashValue(o.salt, v) })
	if !changed {
		return nil, false, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, false, fmt.Errorf("redact: encode: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true, nil
}

// visit calls fn(parent, key) for every value that path reaches from v,
// where parent is the object (map[string]any) or array ([]any) holding it.
// A "*" segment matches every member of an object or element of an array.
// Paths that do not exist are skipped.
func visit(v any, path []string, fn func(parent any, key string)) {
	seg, rest := path[0], path[1:]
	var keys []string
	switch c := v.(type) {
	case map[string]any:
		if seg == "*" {
			for k := range c {
				keys = append(keys, k)
			}
		} else if _, ok := c[seg]; ok {
			keys = []string{seg}
		}
		for _, k := range keys {
			if len(rest) == 0 {
				fn(c, k)
			} else {
				visit(c[k], rest, fn)
			}
		}
	case []any:
		if seg == "*" {
			for i := range c {
				keys = append(keys, strconv.Itoa(i))
			}
		} else if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(c) {
			keys = []string{seg}
		}
		for _, k := range keys {
			i, _ := strconv.Atoi(k)
			if len(rest) == 0 {
				fn(c, k)
			} else {
				visit(c[i], rest, fn)
			}
		}
	}
}

// text is a value as text: a string as is, anything else as its JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v) // decoded JSON always marshals
	return string(b)
}

// mask replaces all but the last 4 characters of the value's text with
// "*"; a text of 4 characters or fewer is masked whole.
func mask(v any) string {
	s := text(v)
	n := utf8.RuneCountInString(s)
	if n <= keep {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return strings.Repeat("*", n-keep) + string(r[n-keep:])
}

// hashValue replaces the value with "sha256:" and the hex SHA-256 of the
// salt followed by the value's text. Equal values give equal hashes, so a
// receiver can still correlate them.
func hashValue(salt string, v any) string {
	sum := sha256.Sum256([]byte(salt + text(v)))
	return "sha256:" + hex.EncodeToString(sum[:])
}
