package jsonstrict

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting limit when the caller gives none: 64
// objects and arrays inside each other. Real payloads rarely pass 10.
const DefaultMaxDepth = 64

// MaxDepth is the largest limit Check honours, encoding/json's own: Check
// recurses once per level, so the limit also bounds its stack.
const MaxDepth = 10000

// Sentinels, one per reason for a refusal; every *Error wraps one.
var (
	// ErrSyntax: not one JSON value.
	ErrSyntax = errors.New("jsonstrict: syntax error")
	// ErrDuplicateKey: an object names a key twice (ignoring case).
	ErrDuplicateKey = errors.New("jsonstrict: duplicate key")
	// ErrInvalidUTF8: bytes that are not UTF-8, or a lone surrogate escape.
	ErrInvalidUTF8 = errors.New("jsonstrict: invalid UTF-8")
	// ErrTooDeep: objects and arrays nested deeper than the limit.
	ErrTooDeep = errors.New("jsonstrict: nesting too deep")
)

// Error is a refusal. Its message ends with the JSONPath of the value where
// the problem is: "$" is the whole document, "$.data.items[2]" a value
// inside it (for a duplicate key, the object that holds it).
type Error struct {
	// Offset is the byte offset of the problem (for a duplicate key, of the
	// object that holds it).
	Offset int
	kind   error
	msg    string
	// segs are the path segments, innermost first, as the error unwinds.
	segs []string
}

// Path is where the problem is, such as "$.data" or "$.items[3]".
func (e *Error) Path() string {
	var b strings.Builder
	b.WriteString("$")
	for i := len(e.segs) - 1; i >= 0; i-- {
		b.WriteString(e.segs[i])
	}
	return b.String()
}

func (e *Error) Error() string { return e.msg + " at " + e.Path() }

// Unwrap returns the sentinel that says why: ErrSyntax, ErrDuplicateKey,
// ErrInvalidUTF8 or ErrTooDeep.
func (e *Error) Unwrap() error { return e.kind }

// Check reports whether doc is one JSON value with no duplicate keys,
// valid UTF-8 throughout and at most maxDepth levels of nesting (0 or less
// means DefaultMaxDepth; more than MaxDepth means MaxDepth). The error is an
// *Error.
func Check(doc []byte, maxDepth int) error {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	maxDepth = min(maxDepth, MaxDepth)
	s := scanner{b: doc, max: maxDepth}
	s.space()
	if err := s.value(0); err != nil {
		return err
	}
	s.space()
	if s.i < len(s.b) {
		return s.fail(ErrSyntax, "unexpected data after the JSON value")
	}
	return nil
}

// scanner is one Check: a recursive descent over b. The keys of the open
// objects form a stack of n keys, the first len(arr) of them in arr (inside
// the scanner, so on the caller's stack) and the rest in more; an object's
// keys are on top while it is open, and are popped when it closes. The path
// of an error is built as it unwinds, so a document that passes costs
// nothing for paths.
type scanner struct {
	b    []byte
	i    int
	max  int
	n    int
	arr  [48][]byte
	more [][]byte
}

func (s *scanner) push(k []byte) {
	if s.n < len(s.arr) {
		s.arr[s.n] = k
	} else {
		s.more = append(s.more, k)
	}
	s.n++
}

func (s *scanner) pop(base int) {
	if base < len(s.arr) {
		s.more = s.more[:0]
	} else {
		s.more = s.more[:base-len(s.arr)]
	}
	s.n = base
}

// keysFrom returns the keys from position base to the top.
func (s *scanner) keysFrom(base int) [][]byte {
	if s.n <= len(s.arr) {
		return s.arr[base:s.n]
	}
	var out [][]byte
	if base < len(s.arr) {
		out = append(out, s.arr[base:]...)
	}
	return append(out, s.more[max(base-len(s.arr), 0):]...)
}

func (s *scanner) fail(kind error, format string, args ...any) *Error {
	return &Error{Offset: s.i, kind: kind, msg: fmt.Sprintf(format, args...)}
}

// expected refuses the byte at s.i, or the end of input, for want.
func (s *scanner) expected(want string) *Error {
	if s.i >= len(s.b) {
		return s.fail(ErrSyntax, "unexpected end of input, expected %s", want)
	}
	c := s.b[s.i]
	if c >= utf8.RuneSelf {
		if r, n := utf8.DecodeRune(s.b[s.i:]); r == utf8.RuneError && n == 1 {
			return s.fail(ErrInvalidUTF8, "invalid UTF-8 byte 0x%02x", c)
		}
		r, _ := utf8.DecodeRune(s.b[s.i:])
		return s.fail(ErrSyntax, "invalid character %q, expected %s", r, want)
	}
	return s.fail(ErrSyntax, "invalid character %q, expected %s", rune(c), want)
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) *Error {
	if s.i >= len(s.b) {
		return s.expected("a value")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.expected("a value")
}

func (s *scanner) literal(lit string) *Error {
	for j := 0; j < len(lit); j++ {
		if s.i >= len(s.b) || s.b[s.i] != lit[j] {
			return s.expected("the literal " + lit)
		}
		s.i++
	}
	return nil
}

func (s *scanner) digits(want string) *Error {
	if s.i >= len(s.b) || s.b[s.i] < '0' || s.b[s.i] > '9' {
		return s.expected(want)
	}
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() *Error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if err := s.digits("a digit"); err != nil {
		return err
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if err := s.digits("a digit after '.'"); err != nil {
			return err
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		return s.digits("a digit in the exponent")
	}
	return nil
}

// str reads a string, and reports whether it has escapes.
func (s *scanner) str() (escaped bool, err *Error) {
	s.i++ // the opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return escaped, err
			}
		case c < 0x20:
			return escaped, s.fail(ErrSyntax, "control character %q in a string; escape it", rune(c))
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return escaped, s.fail(ErrInvalidUTF8, "invalid UTF-8 byte 0x%02x in a string", c)
			}
			s.i += n
		}
	}
	return escaped, s.expected(`'"' to end the string`)
}

// escape reads one escape sequence at s.i. A \u escape of a UTF-16
// surrogate must be a high one followed by a low one.
func (s *scanner) escape() *Error {
	s.i++ // the backslash
	if s.i >= len(s.b) {
		return s.expected(`one of "\/bfnrtu after '\'`)
	}
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i++
		return nil
	case 'u':
	default:
		return s.expected(`one of "\/bfnrtu after '\'`)
	}
	at := s.i - 1
	r, err := s.hex4()
	if err != nil {
		return err
	}
	if r < 0xd800 || r > 0xdfff {
		return nil
	}
	lone := &Error{Offset: at, kind: ErrInvalidUTF8, msg: fmt.Sprintf(`lone UTF-16 surrogate \u%04x in a string`, r)}
	if r >= 0xdc00 || s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
		return lone
	}
	s.i++
	lo, err := s.hex4()
	if err != nil {
		return err
	}
	if lo < 0xdc00 || lo > 0xdfff {
		return lone
	}
	return nil
}

// hex4 reads the u and four hex digits of a \u escape at s.i.
func (s *scanner) hex4() (rune, *Error) {
	s.i++ // the u
	var r rune
	for range 4 {
		if s.i >= len(s.b) {
			return 0, s.expected(`four hex digits after \u`)
		}
		c := s.b[s.i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, s.expected(`four hex digits after \u`)
		}
		r = r<<4 | rune(c)
		s.i++
	}
	return r, nil
}

func (s *scanner) tooDeep() *Error {
	return s.fail(ErrTooDeep, "nesting deeper than %d levels", s.max)
}

func (s *scanner) array(depth int) *Error {
	if depth > s.max {
		return s.tooDeep()
	}
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		if err := s.value(depth); err != nil {
			err.segs = append(err.segs, "["+strconv.Itoa(n)+"]")
			return err
		}
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return s.expected("',' or ']'")
		}
		s.i++
		s.space()
	}
}

func (s *scanner) object(depth int) *Error {
	if depth > s.max {
		return s.tooDeep()
	}
	start, base := s.i, s.n
	defer s.pop(base)
	s.i++
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.expected("a string key")
		}
		from := s.i
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.b[from+1 : s.i-1]
		if escaped {
			key = unescape(s.b[from:s.i])
		}
		s.push(key)
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.expected("':' after an object key")
		}
		s.i++
		s.space()
		if err := s.value(depth); err != nil {
			err.segs = append(err.segs, pathKey(key))
			return err
		}
		s.space()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			if k := duplicate(s.keysFrom(base)); k != nil {
				return &Error{Offset: start, kind: ErrDuplicateKey, msg: fmt.Sprintf("duplicate key %q", k)}
			}
			return nil
		}
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return s.expected("',' or '}'")
		}
		s.i++
		s.space()
	}
}

// duplicate returns the later of two keys that are equal ignoring case, or
// nil. Case counts because Go's encoding/json matches struct fields without
// it: a Go receiver reads {"amount":1,"Amount":9} as 9, a plugin as 1.
//
// A small object is checked pairwise. A larger one is checked by a hash of
// the folded keys, sorted, so that a 10,000-key object costs n log n and
// not n².
func duplicate(keys [][]byte) []byte {
	if len(keys) <= 32 {
		for i := 1; i < len(keys); i++ {
			for j := 0; j < i; j++ {
				if bytes.EqualFold(keys[i], keys[j]) {
					return keys[i]
				}
			}
		}
		return nil
	}
	type entry struct {
		h   uint64
		pos int
	}
	seed := maphash.MakeSeed()
	es := make([]entry, len(keys))
	var fold []byte
	for i, k := range keys {
		fold = foldKey(fold[:0], k)
		es[i] = entry{maphash.Bytes(seed, fold), i}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if a.h != b.h {
			if a.h < b.h {
				return -1
			}
			return 1
		}
		return a.pos - b.pos
	})
	var found []byte
	at := len(keys)
	for i := 1; i < len(es); i++ {
		for j := i - 1; j >= 0 && es[j].h == es[i].h; j-- {
			if es[i].pos < at && bytes.EqualFold(keys[es[i].pos], keys[es[j].pos]) {
				found, at = keys[es[i].pos], es[i].pos
			}
		}
	}
	return found
}

// foldKey appends k folded so that two keys fold alike exactly when
// bytes.EqualFold holds (encoding/json folds its field names the same way).
func foldKey(out, k []byte) []byte {
	for i := 0; i < len(k); {
		if c := k[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(k[i:])
		out = utf8.AppendRune(out, unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return out
}

// unescape decodes a quoted string that str has already checked. It is the
// rare path (keys with escapes), so it may allocate.
func unescape(quoted []byte) []byte {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return quoted // unreachable after str; keep the raw form
	}
	return []byte(s)
}

// pathKey renders one object key as a path segment: .name when it is a
// plain name, ["..."] otherwise.
func pathKey(k []byte) string {
	plain := len(k) > 0
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return "." + string(k)
	}
	return "[" + strconv.Quote(string(k)) + "]"
}
