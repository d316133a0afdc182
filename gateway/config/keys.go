package config

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// tagName is the struct tag that names a Config field's key.
const tagName = "koanf"

var configType = reflect.TypeFor[Config]()

// keyedField is one field of a config struct together with its key.
type keyedField struct {
	key   string
	index int
	typ   reflect.Type
}

// keyedFields lists the keyed fields of struct type t in declaration order.
func keyedFields(t reflect.Type) []keyedField {
	var out []keyedField
	for i := range t.NumField() {
		f := t.Field(i)
		if key := f.Tag.Get(tagName); key != "" && key != "-" && f.IsExported() {
			out = append(out, keyedField{key: key, index: i, typ: f.Type})
		}
	}
	return out
}

// fieldByKey returns the field of struct type t whose key is key.
func fieldByKey(t reflect.Type, key string) (keyedField, bool) {
	for _, f := range keyedFields(t) {
		if f.key == key {
			return f, true
		}
	}
	return keyedField{}, false
}

// sections returns the top-level keys of Config ("server", "storage", ...).
func sections() map[string]bool {
	out := make(map[string]bool)
	for _, f := range keyedFields(configType) {
		out[f.key] = true
	}
	return out
}

// unknownKeys walks raw, the merged koanf map, against Config and reports
// every key that no field declares. Values of the wrong shape are skipped:
// decoding reports those.
func unknownKeys(raw map[string]any) problems {
	var ps problems
	walkKeys(&ps, raw, configType, "")
	return ps
}

func walkKeys(ps *problems, raw any, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fieldByKey(t, k)
			if !ok {
				ps.add(joinPath(path, displayKey(k)), unknownKeyMessage(k, t))
				continue
			}
			walkKeys(ps, m[k], f.typ, joinPath(path, k))
		}
	case reflect.Slice, reflect.Array:
		list, ok := raw.([]any)
		if !ok {
			return
		}
		for i, v := range list {
			walkKeys(ps, v, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	default:
		// Scalars and maps (such as headers) hold any keys.
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// displayKey quotes keys that would otherwise read as a path.
func displayKey(k string) string {
	if k == "" || strings.ContainsAny(k, ".[] \t\n") {
		return strconv.Quote(k)
	}
	return k
}

func unknownKeyMessage(key string, t reflect.Type) string {
	msg := "unknown key"
	if strings.Contains(key, ".") {
		return msg + "; nest keys as YAML mappings instead of joining them with dots"
	}
	if s := suggest(key, t); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// suggest returns the key of struct type t closest to key, if it is within
// an edit distance of 2, or "".
func suggest(key string, t reflect.Type) string {
	best, bestDist := "", 3
	for _, f := range keyedFields(t) {
		if d := editDistance(strings.ToLower(key), f.key); d < bestDist {
			best, bestDist = f.key, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// pathSegment is one step of a key path, ranked by declaration order.
type pathSegment struct {
	rank int    // field index or list index; unknownRank for other keys
	name string // tie-breaker for keys that are not fields
}

const unknownRank = 1 << 30

// pathOrder turns "webhooks[1].headers.X-Id" into segments that sort in the
// order Config declares its fields, then by list index, then by name.
func pathOrder(path string) []pathSegment {
	var segs []pathSegment
	t := configType
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		seg := pathSegment{rank: unknownRank, name: name}
		if t != nil && t.Kind() == reflect.Struct {
			if f, ok := fieldByKey(t, name); ok {
				seg.rank, t = f.index, f.typ
			} else {
				t = nil
			}
		} else {
			t = nil
		}
		segs = append(segs, seg)
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if err != nil {
				n = unknownRank
			}
			segs = append(segs, pathSegment{rank: n})
			if t != nil && t.Kind() == reflect.Slice {
				t = t.Elem()
			} else {
				t = nil
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return segs
}

// sortProblems orders ps by key path in declaration order. Problems at the
// same path keep the order in which they were found.
func sortProblems(ps []Problem) {
	keys := make(map[string][]pathSegment, len(ps))
	for _, p := range ps {
		if _, ok := keys[p.Path]; !ok {
			keys[p.Path] = pathOrder(p.Path)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return slices.CompareFunc(keys[a.Path], keys[b.Path], func(x, y pathSegment) int {
			return cmp.Or(cmp.Compare(x.rank, y.rank), strings.Compare(x.name, y.name))
		})
	})
}
