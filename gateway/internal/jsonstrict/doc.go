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
//     ("a" and "\u0061" are the same key) and ignoring case, with the path
//     of the object. Case counts because Go's encoding/json fills a struct
//     field from a key in any case, the last one winning, so a Go receiver
//     reads {"amount":1,"Amount":9} as 9 while a plugin reads 1;
//   - invalid UTF-8 anywhere, inside strings included;
//   - a lone surrogate escape such as "\ud800": it has no UTF-8 form, Go
//     replaces it with U+FFFD, Python keeps it and then fails to encode it;
//   - nesting deeper than a limit (DefaultMaxDepth unless the caller says),
//     which keeps recursive parsers downstream from running out of stack;
//   - anything that is not one JSON value (the grammar of RFC 8259, as
//     encoding/json reads it), with surrounding whitespace only.
//
// FuzzCheck holds Check to encoding/json: it never accepts what
// encoding/json refuses, and accepts every document encoding/json accepts
// that has none of the problems above (FuzzCheck_refuses: and refuses every
// one that has one).
//
// # Cost
//
// Check is one pass over the bytes with no allocation on the common path
// (TestCheck_zeroAllocs): keys without escapes are compared in place, the
// keys of open objects sit in a fixed array inside the scanner, and an
// object's keys are compared pairwise when it closes. Only keys with
// escapes, objects with more than 32 keys (a sorted hash of the folded
// keys, so n log n and not n²), more than 48 open keys, and errors
// allocate. Check is a
// pure function and safe for concurrent use.
package jsonstrict
