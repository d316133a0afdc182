// Package jsonstrict checks that a JSON document means the same thing to
// every parser that reads it. The gateway runs it on every request body it
// decodes, before anything else looks at the bytes.
//
// # Threat model
//
// A producer controls the bytes. The gateway, its plugins (whose SDK reads
// a field with a small scanner) and the receivers (Go, Python, JavaScript)
// parse them separately. Where JSON parsers disagree, a producer can show a
// plugin one value and a receiver another: {"amount":1,"amount":999999}
// passes a fraud filter that reads the first "amount" and pays out the
// last. Check refuses every document on which common parsers disagree or
// fail, following I-JSON (RFC 7493):
//
//   - a duplicate object key, at any depth, compared after unescaping
//     ("a" and "\u0061" are the same key), with the path of the object;
//   - invalid UTF-8 anywhere, inside strings included;
//   - a lone surrogate escape such as "\ud800": it has no UTF-8 form, Go
//     replaces it with U+FFFD, Python keeps it and then fails to encode it;
//   - nesting deeper than a limit (DefaultMaxDepth unless the caller says),
//     which keeps recursive parsers downstream from running out of stack;
//   - anything that is not one JSON value (the grammar of RFC 8259, as
//     encoding/json reads it), with surrounding whitespace only.
//
// Keys that differ only in case are different keys, as they are to every
// receiver. FuzzCheck holds Check to encoding/json: it never accepts what
// encoding/json refuses, and accepts every document encoding/json accepts
// that has none of the problems above.
//
// # Cost
//
// Check is one pass over the bytes with no allocation on the common path:
// keys without escapes are compared in place, and only keys with escapes,
// objects with more than a few dozen keys and errors allocate. Check is a
// pure function and safe for concurrent use.
package jsonstrict
