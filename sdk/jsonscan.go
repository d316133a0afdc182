package sdk

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is a small JSON scanner for Event.Get and the meta document. It
// skips values by tracking strings, escapes and nesting, and never builds a
// tree. It does not validate: every function returns -1 (or false) on input
// it cannot make sense of and never reads out of bounds.

// get returns the value at a dotted path in doc; see Event.Get.
func get(doc []byte, path string) (string, bool) {
	i := skipWS(doc, 0)
	for {
		seg, rest, more := strings.Cut(path, ".")
		if i >= len(doc) {
			return "", false
		}
		switch doc[i] {
		case '{':
			i = member(doc, i, seg)
		case '[':
			n, ok := arrayIndex(seg)
			if !ok {
				return "", false
			}
			i = element(doc, i, n)
		default:
			return "", false
		}
		if i < 0 {
			return "", false
		}
		if !more {
			end := skipValue(doc, i)
			if end < 0 {
				return "", false
			}
			if doc[i] == '"' {
				return unquote(doc[i:end])
			}
			return string(doc[i:end]), true
		}
		path = rest
	}
}

// member returns the index of the value of key in the object that starts at
// doc[i], or -1.
func member(doc []byte, i int, key string) int {
	i = skipWS(doc, i+1)
	for {
		if i >= len(doc) || doc[i] != '"' { // '}' included: not found
			return -1
		}
		ke := skipString(doc, i)
		if ke < 0 {
			return -1
		}
		k := doc[i+1 : ke-1]
		i = skipWS(doc, ke)
		if i >= len(doc) || doc[i] != ':' {
			return -1
		}
		i = skipWS(doc, i+1)
		if keyEqual(k, key) {
			return i
		}
		if i = skipValue(doc, i); i < 0 {
			return -1
		}
		i = skipWS(doc, i)
		if i >= len(doc) || doc[i] != ',' {
			return -1
		}
		i = skipWS(doc, i+1)
	}
}

// element returns the index of element n of the array that starts at
// doc[i], or -1.
func element(doc []byte, i, n int) int {
	i = skipWS(doc, i+1)
	if i >= len(doc) || doc[i] == ']' {
		return -1
	}
	for k := 0; k < n; k++ {
		if i = skipValue(doc, i); i < 0 {
			return -1
		}
		i = skipWS(doc, i)
		if i >= len(doc) || doc[i] != ',' {
			return -1
		}
		i = skipWS(doc, i+1)
	}
	return i
}

// arrayIndex parses a path segment as an array index: decimal digits only.
// An index of a billion or more is reported as not found.
func arrayIndex(seg string) (int, bool) {
	if seg == "" {
		return 0, false
	}
	for len(seg) > 1 && seg[0] == '0' {
		seg = seg[1:]
	}
	if len(seg) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// keyEqual reports whether the raw (still escaped) key k equals key.
func keyEqual(k []byte, key string) bool {
	if bytes.IndexByte(k, '\\') < 0 {
		return string(k) == key
	}
	s, ok := unescape(k)
	return ok && s == key
}

func skipWS(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string that starts at doc[i] (a
// quote), or -1.
func skipString(doc []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(doc[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		escaped := false
		for p := q - 1; p > i && doc[p] == '\\'; p-- {
			escaped = !escaped
		}
		if !escaped {
			return q + 1
		}
		j = q + 1
	}
}

// skipValue returns the index after the value that starts at doc[i], or -1.
func skipValue(doc []byte, i int) int {
	if i >= len(doc) {
		return -1
	}
	switch doc[i] {
	case '"':
		return skipString(doc, i)
	case '{', '[':
		depth := 0
		for i < len(doc) {
			switch doc[i] {
			case '"':
				if i = skipString(doc, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case '}', ']', ',', ':':
		return -1
	}
	// A number, true, false or null: up to the next delimiter.
	j := i
	for j < len(doc) && !isDelim(doc[j]) {
		j++
	}
	return j
}

func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ':', '"', '{', '[', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// unquote returns the contents of the quoted string q, unescaped.
func unquote(q []byte) (string, bool) {
	if len(q) < 2 {
		return "", false
	}
	s := q[1 : len(q)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), true
	}
	return unescape(s)
}

// unescape decodes the JSON escapes in s (a string's contents, without
// quotes), as encoding/json does: a lone surrogate becomes U+FFFD.
func unescape(s []byte) (string, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			b = append(b, s[i+1])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if len(s) >= i+6 && s[i] == '\\' && s[i+1] == 'u' {
					if r2, ok := hex4(s[i+2:]); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b = utf8.AppendRune(b, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(b), true
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
