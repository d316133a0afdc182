package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestAPI_publish(t *testing.T) {
	h := newHarness(t)
	rc := h.publish(`{"type":"order.created","source":"shop/eu","data":{"total":12.5,"items":["a"]}}`)
	require.True(t, strings.HasPrefix(rc.ID, "evt_"), "server-assigned id %q lacks the evt_ prefix", rc.ID)
	require.Equal(t, "order.created", rc.Type)
	_, err := time.Parse(time.RFC3339Nano, rc.Time)
	require.NoError(t, err)

	ev := h.event(rc.ID)
	require.Equal(t, rc.ID, ev.ID)
	require.Equal(t, "order.created", ev.Type)
	require.Equal(t, "shop/eu", ev.Source)
	require.Equal(t, t0, ev.Time)
	requireJSONEqual(t, `{"total":12.5,"items":["a"]}`, ev.Data)
}

func TestAPI_publishReplay(t *testing.T) {
	tests := []struct {
		name string
		body string
		hdr  []string
	}{
		{"Idempotency-Key header", `{"type":"order.created","data":1}`, []string{"Idempotency-Key", "k-1"}},
		{"client id", `{"id":"order-1","type":"order.created","data":1}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.publish(tc.body, tc.hdr...)
			r := h.postJSON("/v1/events", tc.body, tc.hdr...)
			requireStatus(t, r, http.StatusOK)
			require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
			require.Equal(t, first, decodeStrict[receiptJSON](t, r))
			requireIDs(t, []string{first.ID}, h.allEvents(""))
		})
	}
}

// Reusing an idempotency key with a different request is a 422 (as the
// IETF Idempotency-Key draft says; 409 is for a request still in progress)
// and stores nothing.
func TestAPI_publishIdempotencyConflict(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		hdr           []string
	}{
		{"Idempotency-Key header", `{"type":"order.created","data":1}`, `{"type":"order.created","data":2}`, []string{"Idempotency-Key", "k-1"}},
		{"header, other type", `{"type":"order.created","data":1}`, `{"type":"order.paid","data":1}`, []string{"Idempotency-Key", "k-1"}},
		{"client id", `{"id":"order-1","type":"order.created","data":1}`, `{"id":"order-1","type":"order.created","data":2}`, nil},
		{"client id, other source", `{"id":"order-1","type":"a.b","data":1}`, `{"id":"order-1","type":"a.b","source":"x","data":1}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.publish(tc.first, tc.hdr...)
			r := h.postJSON("/v1/events", tc.second, tc.hdr...)
			requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
			require.Equal(t, "", r.header.Get("Idempotent-Replayed"))
			requireIDs(t, []string{first.ID}, h.allEvents(""))
		})
	}
}

// Every bad request gets its status and error envelope, and only the good
// ones are stored.
func TestAPI_publishBadInput(t *testing.T) {
	const ok = `{"type":"order.created","data":{"n":1}}`
	ceBinary := func(ct string) []string {
		return []string{"Content-Type", ct, "Ce-Specversion", "1.0", "Ce-Id", "1", "Ce-Source", "/s", "Ce-Type", "a.b"}
	}
	tests := []struct {
		name   string
		hdr    []string // Content-Type defaults to application/json
		body   string
		status int
		code   string
		field  string
	}{
		{name: "valid", body: ok, status: 202},
		{name: "valid with charset", hdr: []string{"Content-Type", "application/json; charset=utf-8"}, body: ok, status: 202},
		{name: "valid, trailing whitespace", body: ok + "\n\t ", status: 202},
		{name: "valid, data null", body: `{"type":"a.b","data":null}`, status: 202},
		{name: "valid, client id", body: `{"id":"order-7","type":"a.b","data":[]}`, status: 202},

		{name: "truncated", body: `{"type":"order.created","data":`, status: 400, code: "invalid_json"},
		{name: "truncated string", body: `{"type":"order.cre`, status: 400, code: "invalid_json"},
		{name: "trailing garbage", body: ok + ` x`, status: 400, code: "invalid_json"},
		{name: "two documents", body: ok + ok, status: 400, code: "invalid_json"},
		{name: "extra brace", body: ok + `}`, status: 400, code: "invalid_json"},
		{name: "empty body", body: "", status: 400, code: "invalid_json"},
		{name: "whitespace body", body: " \n\t", status: 400, code: "invalid_json"},
		{name: "not JSON", body: `type=a.b`, status: 400, code: "invalid_json"},
		{name: "single quotes", body: `{'type':'a.b','data':1}`, status: 400, code: "invalid_json"},

		{name: "array body", body: `[` + ok + `]`, status: 422, code: "validation_failed"},
		{name: "missing type", body: `{"data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "null type", body: `{"type":null,"data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "empty type", body: `{"type":"","data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "invalid type", body: `{"type":"order..created","data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "type with space", body: `{"type":"order created","data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "type wildcard", body: `{"type":"order.*","data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "type not a string", body: `{"type":7,"data":1}`, status: 422, code: "validation_failed", field: "type"},
		{name: "missing data", body: `{"type":"a.b"}`, status: 422, code: "validation_failed", field: "data"},
		{name: "unknown field", body: `{"type":"a.b","data":1,"priority":"high"}`, status: 422, code: "validation_failed", field: "priority"},
		{name: "reserved id prefix", body: `{"id":"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV","type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "id"},
		{name: "empty id", body: `{"id":"","type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "id"},
		{name: "id with slash", body: `{"id":"a/b","type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "id"},
		{name: "id not a string", body: `{"id":5,"type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "id"},
		{name: "empty source", body: `{"source":"","type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "source"},
		{name: "source with newline", body: `{"source":"a\nb","type":"a.b","data":1}`, status: 422, code: "validation_failed", field: "source"},

		{name: "no content type", hdr: []string{"Content-Type", ""}, body: ok, status: 415, code: "unsupported_media_type"},
		{name: "text/plain", hdr: []string{"Content-Type", "text/plain"}, body: ok, status: 415, code: "unsupported_media_type"},
		{name: "form", hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "type=a.b&data=1", status: 415, code: "unsupported_media_type"},
		{name: "multipart", hdr: []string{"Content-Type", "multipart/form-data; boundary=x"}, body: ok, status: 415, code: "unsupported_media_type"},
		{name: "malformed content type", hdr: []string{"Content-Type", "application/"}, body: ok, status: 415, code: "unsupported_media_type"},
		{name: "CE binary, text data", hdr: ceBinary("text/plain"), body: "hello", status: 415, code: "unsupported_media_type"},
		{name: "CE binary, octet data", hdr: ceBinary("application/octet-stream"), body: "\x00\x01", status: 415, code: "unsupported_media_type"},
		{name: "CE binary, invalid JSON data", hdr: ceBinary("application/json"), body: "{", status: 400, code: "invalid_json"},

		{name: "Idempotency-Key too long", hdr: []string{"Idempotency-Key", strings.Repeat("k", 256)}, body: ok, status: 400, code: "invalid_parameter", field: "Idempotency-Key"},
	}
	h := newHarness(t)
	var stored []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.postJSON("/v1/events", tc.body, tc.hdr...)
			if tc.status == http.StatusAccepted {
				requireStatus(t, r, http.StatusAccepted)
				stored = append(stored, decodeStrict[receiptJSON](t, r).ID)
				return
			}
			requireAPIError(t, r, tc.status, tc.code, tc.field)
		})
	}
	slices.Reverse(stored)
	requireIDs(t, stored, h.allEvents(""))
}

// A body over server.max_body_bytes is a 413 and stores nothing; a body of
// exactly the limit is fine.
func TestAPI_publishBodyLimit(t *testing.T) {
	h := newHarness(t)
	body := func(size int) string {
		const head, tail = `{"type":"a.b","data":"`, `"}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	batch := func(size int) string {
		const head, tail = `{"events":[{"type":"a.b","data":"`, `"}]}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}

	r := h.postJSON("/v1/events", body(maxBody+1))
	requireAPIError(t, r, http.StatusRequestEntityTooLarge, "body_too_large", "")
	r = h.postJSON("/v1/events", body(maxBody+4096))
	requireAPIError(t, r, http.StatusRequestEntityTooLarge, "body_too_large", "")
	r = h.postJSON("/v1/events/batch", batch(maxBody+1))
	requireAPIError(t, r, http.StatusRequestEntityTooLarge, "body_too_large", "")
	requireIDs(t, nil, h.allEvents(""))

	rc := h.publish(body(maxBody))
	requireIDs(t, []string{rc.ID}, h.allEvents(""))
}

// Fifty identical requests race; exactly one stores the event and the rest
// are replays of it.
func TestAPI_publishConcurrentDuplicates(t *testing.T) {
	const n = 50
	tests := []struct {
		name string
		body string
		hdr  []string
	}{
		{"Idempotency-Key header", `{"type":"order.created","data":{"n":1}}`, []string{"Idempotency-Key", "order-1"}},
		{"client id", `{"id":"order-1","type":"order.created","data":{"n":1}}`, nil},
		{"CloudEvents source and id", `{"specversion":"1.0","id":"c-1","source":"/shop","type":"order.created","data":{"n":1}}`, []string{"Content-Type", "application/cloudevents+json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			hdr := append([]string{"Content-Type", "application/json"}, tc.hdr...)
			res := make([]response, n)
			errs := make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[i], errs[i] = h.send(http.MethodPost, "/v1/events", tc.body, hdr...)
				}()
			}
			close(start)
			wg.Wait()

			created, replayed := 0, 0
			var id string
			for i, r := range res {
				require.NoError(t, errs[i])
				switch r.status {
				case http.StatusAccepted:
					created++
					require.Equal(t, "", r.header.Get("Idempotent-Replayed"))
				case http.StatusOK:
					replayed++
					require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
				default:
					t.Fatalf("request %d: status %d: %s", i, r.status, r.body)
				}
				rc := decodeStrict[receiptJSON](t, r)
				if id == "" {
					id = rc.ID
				}
				require.Equal(t, id, rc.ID)
			}
			require.Equal(t, 1, created)
			require.Equal(t, n-1, replayed)
			requireIDs(t, []string{id}, h.allEvents(""))
		})
	}
}

// batchOf returns {"events":[item(0),...,item(n-1)]}.
func batchOf(n int, item func(i int) string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = item(i)
	}
	return `{"events":[` + strings.Join(items, ",") + `]}`
}

func numbered(i int) string { return fmt.Sprintf(`{"type":"order.created","data":{"n":%d}}`, i) }

func TestAPI_publishBatch(t *testing.T) {
	h := newHarness(t)
	r := h.postJSON("/v1/events/batch", batchOf(1000, numbered))
	requireStatus(t, r, http.StatusAccepted)
	require.Equal(t, "", r.header.Get("Idempotent-Replayed"))
	p := decodeStrict[page[batchReceiptJSON]](t, r)
	require.Equal(t, 1000, len(p.Data))
	require.Equal(t, "", p.NextCursor)
	want := make([]string, len(p.Data))
	for i, rc := range p.Data {
		want[len(want)-1-i] = rc.ID // listing is newest first
	}
	requireIDs(t, want, h.allEvents(""))
	requireJSONEqual(t, `{"n":999}`, h.event(p.Data[999].ID).Data)
}

// A refused batch stores none of its events.
func TestAPI_publishBatchAtomic(t *testing.T) {
	tests := []refusal{
		{name: "item 3 has no type", body: batchOf(5, func(i int) string {
			if i == 3 {
				return `{"data":1}`
			}
			return numbered(i)
		}), status: 422, code: "validation_failed", field: "events[3].type"},
		{name: "item 3 has a bad type", body: batchOf(5, func(i int) string {
			if i == 3 {
				return `{"type":"a..b","data":1}`
			}
			return numbered(i)
		}), status: 422, code: "validation_failed", field: "events[3].type"},
		{name: "item 1 has an unknown field", body: batchOf(3, func(i int) string {
			if i == 1 {
				return `{"type":"a.b","data":1,"prio":1}`
			}
			return numbered(i)
		}), status: 422, code: "validation_failed", field: "events[1].prio"},
		{name: "item 2 has a reserved id", body: batchOf(3, func(i int) string {
			if i == 2 {
				return `{"id":"evt_x","type":"a.b","data":1}`
			}
			return numbered(i)
		}), status: 422, code: "validation_failed", field: "events[2].id"},
		{name: "item 0 lacks data", body: batchOf(2, func(int) string { return `{"type":"a.b"}` }), status: 422, code: "validation_failed", field: "events[0].data"},
		{name: "item is not an object", body: `{"events":[` + numbered(0) + `,7]}`, status: 422, code: "validation_failed", field: "events[1]"},
		{name: "1001 events", body: batchOf(1001, numbered), status: 422, code: "validation_failed", field: "events"},
		{name: "no events", body: `{"events":[]}`, status: 422, code: "validation_failed", field: "events"},
		{name: "events missing", body: `{}`, status: 422, code: "validation_failed", field: "events"},
		{name: "unknown top-level field", body: `{"events":[` + numbered(0) + `],"x":1}`, status: 422, code: "validation_failed", field: "x"},
		{name: "truncated", body: `{"events":[` + numbered(0) + `,`, status: 400, code: "invalid_json"},
		{name: "empty body", body: ``, status: 400, code: "invalid_json"},
		{name: "single CloudEvent content type", hdr: []string{"Content-Type", "application/cloudevents+json"}, body: batchOf(1, numbered), status: 415, code: "unsupported_media_type"},
		{name: "text/plain", hdr: []string{"Content-Type", "text/plain"}, body: batchOf(1, numbered), status: 415, code: "unsupported_media_type"},
		{name: "no content type", hdr: []string{"Content-Type", ""}, body: batchOf(1, numbered), status: 415, code: "unsupported_media_type"},
		{name: "duplicate id with different bodies", body: `{"events":[` + numbered(0) + `,{"id":"o-1","type":"a.b","data":1},{"id":"o-1","type":"a.b","data":2}]}`, status: 422, code: "idempotency_key_reused"},
	}
	h := newHarness(t)
	h.requireRefusals(t, "/v1/events/batch", tests)
	requireIDs(t, nil, h.allEvents(""))
}

func TestAPI_publishBatchReplay(t *testing.T) {
	h := newHarness(t)
	body := batchOf(3, numbered)
	r := h.postJSON("/v1/events/batch", body, "Idempotency-Key", "batch-1")
	requireStatus(t, r, http.StatusAccepted)
	first := decodeStrict[page[batchReceiptJSON]](t, r)

	r = h.postJSON("/v1/events/batch", body, "Idempotency-Key", "batch-1")
	requireStatus(t, r, http.StatusOK)
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	again := decodeStrict[page[batchReceiptJSON]](t, r)
	require.Equal(t, len(first.Data), len(again.Data))
	for i := range first.Data {
		require.Equal(t, false, first.Data[i].Replayed)
		require.Equal(t, true, again.Data[i].Replayed)
		again.Data[i].Replayed = false
		require.Equal(t, first.Data[i], again.Data[i])
	}

	// The same key with different events is a conflict.
	r = h.postJSON("/v1/events/batch", batchOf(3, func(i int) string { return numbered(i + 1) }), "Idempotency-Key", "batch-1")
	requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
	require.Equal(t, 3, len(h.allEvents("")))
}

// A batch carrying a client id already used for a different event is
// refused whole.
func TestAPI_publishBatchConflict(t *testing.T) {
	h := newHarness(t)
	first := h.publish(`{"id":"order-1","type":"order.created","data":{"n":1}}`)
	body := batchOf(4, func(i int) string {
		if i == 2 {
			return `{"id":"order-1","type":"order.created","data":{"n":2}}`
		}
		return numbered(i)
	})
	r := h.postJSON("/v1/events/batch", body)
	requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
	requireIDs(t, []string{first.ID}, h.allEvents(""))

	// The same id with the same body replays inside a batch: 202, because
	// the other events are new.
	body = batchOf(2, func(i int) string {
		if i == 1 {
			return `{"id":"order-1","type":"order.created","data":{"n":1}}`
		}
		return numbered(i)
	})
	r = h.postJSON("/v1/events/batch", body)
	requireStatus(t, r, http.StatusAccepted)
	p := decodeStrict[page[batchReceiptJSON]](t, r)
	require.Equal(t, "order-1", p.Data[1].ID)
	require.Equal(t, false, p.Data[0].Replayed)
	require.Equal(t, true, p.Data[1].Replayed)
	requireIDs(t, []string{p.Data[0].ID, first.ID}, h.allEvents(""))
}

// An event that names itself (client id, CloudEvents source and id) is its
// own idempotency key, whatever Idempotency-Key header comes with it: a new
// header key must not let a second event take the same id.
func TestAPI_publishOwnKeyBeatsHeader(t *testing.T) {
	tests := []struct {
		name          string
		ct, batchCT   string
		first, second string // second differs from first only in data
		batch         string // a batch whose item 1 conflicts with first
	}{
		{"client id", "application/json", "application/json",
			`{"id":"order-1","type":"a.b","data":1}`,
			`{"id":"order-1","type":"a.b","data":2}`,
			`{"events":[{"type":"a.b","data":3},{"id":"order-1","type":"a.b","data":4}]}`},
		{"CloudEvent", "application/cloudevents+json", "application/cloudevents-batch+json",
			`{"specversion":"1.0","id":"c-1","source":"/shop","type":"a.b","data":1}`,
			`{"specversion":"1.0","id":"c-1","source":"/shop","type":"a.b","data":2}`,
			`[{"specversion":"1.0","id":"c-2","source":"/shop","type":"a.b","data":3},{"specversion":"1.0","id":"c-1","source":"/shop","type":"a.b","data":4}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.publish(tc.first, "Content-Type", tc.ct, "Idempotency-Key", "k-1")

			r := h.postJSON("/v1/events", tc.second, "Content-Type", tc.ct, "Idempotency-Key", "k-2")
			requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
			r = h.postJSON("/v1/events", tc.second, "Content-Type", tc.ct)
			requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")
			r = h.postJSON("/v1/events/batch", tc.batch, "Content-Type", tc.batchCT, "Idempotency-Key", "k-3")
			requireAPIError(t, r, http.StatusUnprocessableEntity, "idempotency_key_reused", "")

			r = h.postJSON("/v1/events", tc.first, "Content-Type", tc.ct, "Idempotency-Key", "k-2")
			requireStatus(t, r, http.StatusOK)
			require.Equal(t, first, decodeStrict[receiptJSON](t, r))
			requireIDs(t, []string{first.ID}, h.allEvents(""))
		})
	}
}

// Idempotency keys of batches and of single events live apart: a single
// event's "k#0" is not item 0 of batch "k".
func TestAPI_publishBatchKeyNamespace(t *testing.T) {
	h := newHarness(t)
	r := h.postJSON("/v1/events/batch", batchOf(2, numbered), "Idempotency-Key", "k")
	requireStatus(t, r, http.StatusAccepted)

	h.publish(numbered(7), "Idempotency-Key", "k#0")
	h.publish(numbered(1), "Idempotency-Key", "k#1")
	require.Equal(t, 4, len(h.allEvents("")))
}
