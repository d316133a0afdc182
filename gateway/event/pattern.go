package event

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPattern is wrapped by every pattern parse failure.
var ErrInvalidPattern = errors.New("invalid pattern")

// Pattern is a parsed NATS-style subject pattern. The zero value matches
// nothing.
type Pattern struct {
	raw  string
	segs []string // "*" and ">" are wildcards; ">" only appears last
}

// ParsePattern parses p. Literal segments follow the event-type syntax; a
// segment may instead be "*" (exactly one segment) or, as the last segment
// only, ">" (one or more segments).
func ParsePattern(p string) (Pattern, error) {
	if p == "" {
		return Pattern{}, fmt.Errorf("%w: must not be empty", ErrInvalidPattern)
	}
	if len(p) > MaxTypeLen {
		return Pattern{}, fmt.Errorf("%w: longer than %d characters", ErrInvalidPattern, MaxTypeLen)
	}
	segs := strings.Split(p, ".")
	for i, s := range segs {
		switch {
		case s == "":
			return Pattern{}, fmt.Errorf("%w: %q has an empty segment", ErrInvalidPattern, p)
		case s == ">":
			if i != len(segs)-1 {
				return Pattern{}, fmt.Errorf("%w: %q: '>' must be the last segment", ErrInvalidPattern, p)
			}
		case s == "*":
		default:
			for j := 0; j < len(s); j++ {
				if !isTypeChar(s[j]) {
					return Pattern{}, fmt.Errorf("%w: %q: character %q is not one of [A-Za-z0-9_-] or a whole-segment wildcard", ErrInvalidPattern, p, s[j])
				}
			}
		}
	}
	return Pattern{raw: p, segs: segs}, nil
}

// MustParsePattern is ParsePattern for patterns known to be valid, such as
// literals in tests. It panics on error.
func MustParsePattern(p string) Pattern {
	pat, err := ParsePattern(p)
	if err != nil {
		panic(err)
	}
	return pat
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.raw }

// Match reports whether the event type t matches p. It does not allocate.
func (p Pattern) Match(t string) bool {
	if len(p.segs) == 0 {
		return false
	}
	rest := t
	for i, s := range p.segs {
		if s == ">" {
			return hasSegments(rest) // one or more remaining segments
		}
		if rest == "" && i > 0 {
			return false
		}
		var seg string
		if dot := strings.IndexByte(rest, '.'); dot >= 0 {
			seg, rest = rest[:dot], rest[dot+1:]
			if rest == "" { // trailing dot: an empty segment never matches
				return false
			}
		} else {
			seg, rest = rest, ""
		}
		if seg == "" || (s != "*" && s != seg) {
			return false
		}
		if rest == "" && i < len(p.segs)-1 {
			// t ran out; only a following ">" could still match, and it needs
			// at least one more segment.
			return false
		}
	}
	return rest == ""
}

// Patterns is a set of patterns; it matches a type if any member does.
type Patterns []Pattern

// ParsePatterns parses every element of ps. On failure it returns the index
// of the first bad pattern with the error.
func ParsePatterns(ps []string) (Patterns, int, error) {
	out := make(Patterns, 0, len(ps))
	for i, s := range ps {
		p, err := ParsePattern(s)
		if err != nil {
			return nil, i, err
		}
		out = append(out, p)
	}
	return out, -1, nil
}

// Match reports whether any pattern matches t.
func (ps Patterns) Match(t string) bool {
	for _, p := range ps {
		if p.Match(t) {
			return true
		}
	}
	return false
}

// Strings returns the patterns as written.
func (ps Patterns) Strings() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.raw
	}
	return out
}

// hasSegments reports whether s is one or more non-empty dot-separated
// segments.
func hasSegments(s string) bool {
	return s != "" && s[0] != '.' && s[len(s)-1] != '.' && !strings.Contains(s, "..")
}
