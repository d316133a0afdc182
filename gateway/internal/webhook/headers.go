package webhook

import (
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// HeaderMask starts every custom header value the API shows. The values
// themselves are write-only: they are credentials as often as not
// ("Authorization: Bearer ..."), so answers show only a hint.
const HeaderMask = "…"

// minHintLen is the shortest value whose hint shows its last four
// characters; shorter values are masked whole, so a hint never gives away
// more than a quarter of a value.
const minHintLen = 16

// HeaderHint returns the form of a custom header value that is safe to
// display: HeaderMask and the value's last four characters ("…oken"), or
// HeaderMask alone for a value shorter than 16 characters.
func HeaderHint(v string) string {
	if utf8.RuneCountInString(v) < minHintLen {
		return HeaderMask
	}
	i := len(v)
	for range 4 {
		_, size := utf8.DecodeLastRuneInString(v[:i])
		i -= size
	}
	return HeaderMask + v[i:]
}

// MaskHeaders returns a copy of h with every value replaced by its
// HeaderHint (an empty map for nil).
func MaskHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = HeaderHint(v)
	}
	return out
}

// UnmaskHeaders returns next with every value that is the HeaderHint of
// the value cur holds under the same name (in any case) replaced by that
// stored value,
// so that a client can send back the headers it read, masked, and change
// only the ones it gives in full. A value that starts with HeaderMask but
// is not the hint of a stored value is a problem: a masked value copied
// to the wrong name or webhook would otherwise be stored, and sent, as
// the literal "…abcd". cur is nil on create.
func UnmaskHeaders(next, cur map[string]string) (map[string]string, Problems) {
	var ps Problems
	out := make(map[string]string, len(next))
	for _, k := range slices.Sorted(maps.Keys(next)) {
		v := next[k]
		if !strings.HasPrefix(v, HeaderMask) {
			out[k] = v
			continue
		}
		stored, ok := lookupFold(cur, k)
		if !ok || HeaderHint(stored) != v {
			ps.add("headers."+k, "is a masked value (it starts with \"…\") that matches no stored value of this header; send the real value")
			continue
		}
		out[k] = stored
	}
	return out, ps
}

// lookupFold returns h's value for name, matched exactly or else in any
// case, as HTTP header names are.
func lookupFold(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
