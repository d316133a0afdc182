package httpapi

import (
	"io"
	"net/http"
	"sync/atomic"
)

// pendingBudget bounds the memory that ingest requests hold at once: the
// sum of the request bodies being read, decoded or waiting for their group
// commit. It is safe for concurrent use.
//
// The accounting is in body bytes, taken before the bytes are read:
//   - with a Content-Length, the request takes that much (capped at
//     server.max_body_bytes) up front, and is refused at once when it does
//     not fit;
//   - without one (chunked), it takes each chunk before reading it, and is
//     refused at the first chunk that does not fit;
//   - it gives everything back when its handler returns, which is after
//     the commit: the decoded events (about the size of the body again)
//     live exactly as long as the body, so the real peak is a small
//     multiple of the budget, never an unbounded one.
//
// A refusal is 503 with Retry-After: 1 and the code ingest_overloaded: the
// producer retries soon, with the same Idempotency-Key. Requests never wait
// for room, so a burst cannot pile up goroutines holding half-read bodies.
type pendingBudget struct {
	max  int64 // ingest.max_pending_bytes; 0: no budget
	used atomic.Int64
}

// take reserves n bytes, or reports that they do not fit.
func (b *pendingBudget) take(n int64) bool {
	if b.max <= 0 {
		return true
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *pendingBudget) give(n int64) {
	if b.max > 0 {
		b.used.Add(-n)
	}
}

// errOverloaded is the refusal past the budget.
var errOverloaded = &Error{Status: http.StatusServiceUnavailable, Code: CodeIngestOverloaded, RetryAfter: 1,
	Message: "too many request bytes are waiting to be stored (ingest.max_pending_bytes); retry after a second with the same Idempotency-Key"}

// budgetChunk is how much a body without a Content-Length takes at a time.
const budgetChunk = 64 << 10

// readIngestBody reads r's body within the budget. release gives the
// bytes back; call it once the events are committed (or refused). A
// refusal is errOverloaded, which carries Retry-After.
func (a *API) readIngestBody(r *http.Request) (body []byte, release func(), err error) {
	var held int64
	release = func() { a.pending.give(held) }
	if n := r.ContentLength; n >= 0 {
		held = min(n, a.opts.MaxBodyBytes)
		if !a.pending.take(held) {
			held = 0
			return nil, release, errOverloaded
		}
		body, err = readBody(r)
		return body, release, err
	}
	// A refusal is errOverloaded from Read, which readBody passes on.
	r.Body = &budgetedBody{ReadCloser: r.Body, b: &a.pending, held: &held}
	body, err = readBody(r)
	return body, release, err
}

// budgetedBody is a request body that takes from the budget before each
// read.
type budgetedBody struct {
	io.ReadCloser
	b    *pendingBudget
	held *int64
}

func (bb *budgetedBody) Read(p []byte) (int, error) {
	if len(p) > budgetChunk {
		p = p[:budgetChunk]
	}
	if !bb.b.take(int64(len(p))) {
		return 0, errOverloaded
	}
	n, err := bb.ReadCloser.Read(p)
	// Keep what was read; give back the part of the chunk left empty.
	bb.b.give(int64(len(p) - n))
	*bb.held += int64(n)
	return n, err
}
