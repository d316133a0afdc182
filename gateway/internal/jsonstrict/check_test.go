package jsonstrict_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventgw/gateway/gateway/internal/jsonstrict"
	"github.com/eventgw/gateway/gateway/internal/require"
)

const depth = 64

func TestCheck_accepts(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `0`, `-0.5e+10`, `1E3`, `"x"`, `true`, `false`, `null`,
		" \t\r\n{\"a\" : [1, 2, {\"b\": null}]} \n",
		`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, // same key in other objects
		`{"amount":1,"amounts":2}`,
		`"\ud83d\ude00 \u00e9 \"\\\/\b\f\n\r\t"`, // a surrogate pair is fine
		`{"\u00e9":1,"é2":2}`,
		"{\"\xc3\xa9\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		strings.Repeat("[", depth) + strings.Repeat("]", depth),
		manyKeys(100, ""),
	} {
		require.NoError(t, jsonstrict.Check([]byte(in), depth), "input %q", in)
	}
}

func TestCheck_refuses(t *testing.T) {
	tests := []struct {
		in      string
		want    error
		message string
	}{
		{`{"type":"a.b","type":"c.d"}`, jsonstrict.ErrDuplicateKey, `duplicate key "type" at $`},
		{`{"data":{"amount":1,"amount":999999}}`, jsonstrict.ErrDuplicateKey, `duplicate key "amount" at $.data`},
		{`{"data":{"amount":1,"Amount":999999}}`, jsonstrict.ErrDuplicateKey, `duplicate key "Amount" at $.data`},
		{`{"a":1,"\u0061":2}`, jsonstrict.ErrDuplicateKey, `duplicate key "a" at $`},
		{`{"k":1,"\u212a":2}`, jsonstrict.ErrDuplicateKey, "duplicate key \"\u212a\" at $"}, // Kelvin sign folds to k
		{`[{"x":[0,{"y z":{"q":1,"q":2}}]}]`, jsonstrict.ErrDuplicateKey, `duplicate key "q" at $[0].x[1]["y z"]`},
		{manyKeys(40, `,"k7":0`), jsonstrict.ErrDuplicateKey, `duplicate key "k7" at $`},
		{manyKeys(40, `,"K39":0`), jsonstrict.ErrDuplicateKey, `duplicate key "K39" at $`},
		{"{\"a\":\"\xff\"}", jsonstrict.ErrInvalidUTF8, `invalid UTF-8 byte 0xff in a string at $.a`},
		{"{\"a\":\"\xed\xa0\x80\"}", jsonstrict.ErrInvalidUTF8, `invalid UTF-8 byte 0xed in a string at $.a`}, // a surrogate in UTF-8
		{"{\"a\":\"\\n\xc0\xaf\"}", jsonstrict.ErrInvalidUTF8, `invalid UTF-8 byte 0xc0 in a string at $.a`},  // overlong, after an escape
		{"{\"\xfe\":1}", jsonstrict.ErrInvalidUTF8, `invalid UTF-8 byte 0xfe in a string at $`},
		{"[1,\xff]", jsonstrict.ErrInvalidUTF8, `invalid UTF-8 byte 0xff at $[1]`},
		{`{"a":"\ud800"}`, jsonstrict.ErrInvalidUTF8, `lone UTF-16 surrogate \ud800 in a string at $.a`},
		{`["\udc00"]`, jsonstrict.ErrInvalidUTF8, `lone UTF-16 surrogate \udc00 in a string at $[0]`},
		{`["\ud800\u0041"]`, jsonstrict.ErrInvalidUTF8, `lone UTF-16 surrogate \ud800 in a string at $[0]`},
		{strings.Repeat("[", depth+1) + strings.Repeat("]", depth+1), jsonstrict.ErrTooDeep, `nesting deeper than 64 levels at $` + strings.Repeat("[0]", depth)},
		{`{"a":` + strings.Repeat(`{"b":`, depth) + `1` + strings.Repeat("}", depth+1), jsonstrict.ErrTooDeep, `nesting deeper than 64 levels at $.a` + strings.Repeat(".b", depth-1)},
		{``, jsonstrict.ErrSyntax, `unexpected end of input, expected a value at $`},
		{`{"a":1}x`, jsonstrict.ErrSyntax, `unexpected data after the JSON value at $`},
		{`{"a":1,}`, jsonstrict.ErrSyntax, `invalid character '}', expected a string key at $`},
		{`[01]`, jsonstrict.ErrSyntax, `invalid character '1', expected ',' or ']' at $`},
		{`{"a":tru}`, jsonstrict.ErrSyntax, `invalid character '}', expected the literal true at $.a`},
		{"\"a\tb\"", jsonstrict.ErrSyntax, `control character '\t' in a string; escape it at $`},
		{`"\x"`, jsonstrict.ErrSyntax, `invalid character 'x', expected one of "\/bfnrtu after '\' at $`},
		{`"\u12g4"`, jsonstrict.ErrSyntax, `invalid character 'g', expected four hex digits after \u at $`},
		{`1.`, jsonstrict.ErrSyntax, `unexpected end of input, expected a digit after '.' at $`},
	}
	for _, tc := range tests {
		t.Run(tc.in[:min(len(tc.in), 40)], func(t *testing.T) {
			err := jsonstrict.Check([]byte(tc.in), depth)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, tc.message, err.Error())
			var e *jsonstrict.Error
			require.True(t, errors.As(err, &e), "want *Error, got %T", err)
			require.True(t, e.Offset >= 0 && e.Offset <= len(tc.in), "offset %d", e.Offset)
		})
	}
}

// TestCheck_zeroAllocs pins the common path: small objects, plain keys.
func TestCheck_zeroAllocs(t *testing.T) {
	b := []byte(sampleEvent)
	allocs := testing.AllocsPerRun(100, func() {
		if err := jsonstrict.Check(b, depth); err != nil {
			t.Fatal(err)
		}
	})
	require.Equal(t, 0.0, allocs)
}

const sampleEvent = `{"type":"payment.charged","source":"shop","data":{"amount":1299,"currency":"EUR","card_id":"card_8a7f","ip":"203.0.113.9","customer":{"id":"cus_42","email":"ada@example.com","name":"Ada Lovelace","tags":["vip","beta"]},"items":[{"sku":"A-1","qty":2,"price":4.5},{"sku":"B-2","qty":1,"price":3.99}],"note":"caf\u00e9 – entregado","paid":true,"refund":null}}`

func BenchmarkCheck(b *testing.B) {
	in := []byte(sampleEvent)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := jsonstrict.Check(in, depth); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValid is encoding/json's syntax check of the same input, for
// scale.
func BenchmarkValid(b *testing.B) {
	in := []byte(sampleEvent)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if !json.Valid(in) {
			b.Fatal("invalid")
		}
	}
}

func manyKeys(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + itoa(i) + `":` + itoa(i))
	}
	b.WriteString(extra + "}")
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// surrogateEscape matches a \u escape of a UTF-16 surrogate.
var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F][0-9a-fA-F]{2}`)

// FuzzCheck holds Check to encoding/json: it never accepts what
// encoding/json refuses; on what encoding/json accepts, it refuses exactly
// the documents with duplicate keys (under case folding), invalid UTF-8,
// lone surrogate escapes or nesting deeper than the limit.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		sampleEvent, `{"a":1,"a":2}`, `{"a":1,"A":2}`, `{"a":{"b":1},"c":{"b":2}}`, "\"\xff\"",
		`"\ud800"`, `"\ud83d\ude00"`, `[[[[[[[[[[]]]]]]]]]]`, `{"\u0061":1,"a":2}`, `1e5`, `-0`, ` null `,
		manyKeys(20, `,"k3":1`),
	} {
		f.Add([]byte(s))
	}
	const limit = 8
	f.Fuzz(func(t *testing.T, b []byte) {
		err := jsonstrict.Check(b, limit)
		valid := json.Valid(b)
		if err == nil {
			if !valid {
				t.Fatalf("Check accepted what encoding/json refuses: %q", b)
			}
			return
		}
		var e *jsonstrict.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T is not an *Error: %v", err, err)
		}
		if !valid {
			return // both refuse
		}
		dup, deep := oracle(t, b, limit)
		badUTF8 := !utf8.Valid(b) || surrogateEscape.Match(b)
		switch {
		case errors.Is(err, jsonstrict.ErrSyntax):
			t.Fatalf("Check calls valid JSON a syntax error: %q: %v", b, err)
		case errors.Is(err, jsonstrict.ErrDuplicateKey) && !dup:
			t.Fatalf("Check sees a duplicate encoding/json does not: %q: %v", b, err)
		case errors.Is(err, jsonstrict.ErrTooDeep) && !deep:
			t.Fatalf("Check finds %q too deep: %v", b, err)
		case errors.Is(err, jsonstrict.ErrInvalidUTF8) && !badUTF8:
			t.Fatalf("Check finds invalid UTF-8 in %q: %v", b, err)
		}
	})
}

// FuzzCheck_refuses is the other half: whatever encoding/json accepts with
// a duplicate key, invalid UTF-8 or too deep a nesting, Check refuses.
// (FuzzCheck covers the rest; split so that each failure names its side.)
func FuzzCheck_refuses(f *testing.F) {
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(`[[[[[[[[[1]]]]]]]]]`))
	const limit = 8
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		dup, deep := oracle(t, b, limit)
		bad := dup || deep || !utf8.Valid(b)
		err := jsonstrict.Check(b, limit)
		if bad && err == nil {
			t.Fatalf("Check accepted %q (duplicate %v, too deep %v, utf8 valid %v)", b, dup, deep, utf8.Valid(b))
		}
		if !bad && err != nil && !surrogateEscape.Match(b) {
			t.Fatalf("Check refused clean JSON %q: %v", b, err)
		}
	})
}

// oracle walks b, valid JSON, with encoding/json's tokenizer and reports
// whether an object has two keys equal under case folding, and whether
// nesting exceeds limit.
func oracle(t *testing.T, b []byte, limit int) (dup, deep bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 1E700 is valid JSON but no float64
	type frame struct {
		obj    bool
		keys   []string
		expect bool // the next string token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dup, deep
		}
		if err != nil {
			t.Fatalf("encoding/json tokenizer fails on what json.Valid accepts: %q: %v", b, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expect {
			if k, ok := tok.(string); ok {
				for _, p := range top.keys {
					if strings.EqualFold(p, k) {
						dup = true
					}
				}
				top.keys = append(top.keys, k)
				top.expect = false
				continue
			}
		}
		if top != nil && top.obj {
			top.expect = true // a value ends; the next string is a key
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, expect: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expect = true
			}
			continue
		}
		if len(stack) > limit {
			deep = true
		}
	}
}

// TestCheck_maxDepthCapped checks that a huge limit still bounds the
// recursion: 20,000 levels are refused even when the caller allows more.
func TestCheck_maxDepthCapped(t *testing.T) {
	n := 2 * jsonstrict.MaxDepth
	err := jsonstrict.Check([]byte(strings.Repeat("[", n)+strings.Repeat("]", n)), 1<<30)
	require.ErrorIs(t, err, jsonstrict.ErrTooDeep)
}
