package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

const (
	ctCE      = "application/cloudevents+json"
	ctCEBatch = "application/cloudevents-batch+json"
)

// ceHeaders returns the headers of a binary-mode CloudEvent.
func ceHeaders(ct, id, source, typ string) []string {
	return []string{"Content-Type", ct, "Ce-Specversion", "1.0", "Ce-Id", id, "Ce-Source", source, "Ce-Type", typ}
}

// The stored event takes its source and type from the CloudEvent, and its
// data as JSON.
func TestAPI_publishCloudEvent(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"order":1002}`))
	tests := []struct {
		name     string
		hdr      []string
		body     string
		wantData string
	}{
		{"structured", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","data":{"order":1002}}`, `{"order":1002}`},
		{"structured, charset", []string{"Content-Type", ctCE + "; charset=utf-8"},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","data":{"order":1002}}`, `{"order":1002}`},
		{"structured, data_base64 of JSON", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","data_base64":"` + b64 + `"}`, `{"order":1002}`},
		{"structured, JSON datacontenttype", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","datacontenttype":"application/json","data":[1,2]}`, `[1,2]`},
		{"structured, +json datacontenttype", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","datacontenttype":"application/vnd.shop+json","data":"x"}`, `"x"`},
		{"structured, no data", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created"}`, `null`},
		{"structured, extension attributes", []string{"Content-Type", ctCE},
			`{"specversion":"1.0","id":"A234-1234","source":"/shop","type":"order.created","subject":"o/1","time":"2026-11-28T10:00:00Z","traceparent":"00-x","data":true}`, `true`},
		{"binary", ceHeaders("application/json", "A234-1235", "/shop", "order.created"),
			`{"order":1003}`, `{"order":1003}`},
		{"binary, lower-case headers", []string{"content-type", "application/json", "ce-specversion", "1.0", "ce-id", "A234-1235", "ce-source", "/shop", "ce-type", "order.created"},
			`{"order":1003}`, `{"order":1003}`},
		{"binary, no body", ceHeaders("application/json", "A234-1235", "/shop", "order.created"),
			``, `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			rc := h.publish(tc.body, tc.hdr...)
			require.Equal(t, "order.created", rc.Type)
			ev := h.event(rc.ID)
			require.Equal(t, "/shop", ev.Source)
			require.Equal(t, "order.created", ev.Type)
			requireJSONEqual(t, tc.wantData, ev.Data)
		})
	}
}

func TestAPI_publishCloudEventBadInput(t *testing.T) {
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"a.b"`
	tests := []refusal{
		{"datacontenttype text/plain", []string{"Content-Type", ctCE}, `{` + head + `,"datacontenttype":"text/plain","data":"hi"}`, 415, "unsupported_media_type", "datacontenttype"},
		{"datacontenttype malformed", []string{"Content-Type", ctCE}, `{` + head + `,"datacontenttype":"json/","data":1}`, 415, "unsupported_media_type", "datacontenttype"},
		{"data_base64 not JSON", []string{"Content-Type", ctCE}, `{` + head + `,"data_base64":"` + base64.StdEncoding.EncodeToString([]byte("plain text")) + `"}`, 415, "unsupported_media_type", "data_base64"},
		{"data_base64 not base64", []string{"Content-Type", ctCE}, `{` + head + `,"data_base64":"!!!"}`, 422, "validation_failed", "data_base64"},
		{"data_base64 not a string", []string{"Content-Type", ctCE}, `{` + head + `,"data_base64":5}`, 422, "validation_failed", "data_base64"},
		{"data and data_base64", []string{"Content-Type", ctCE}, `{` + head + `,"data":1,"data_base64":"MQ=="}`, 422, "validation_failed", "data_base64"},
		{"missing specversion", []string{"Content-Type", ctCE}, `{"id":"1","source":"/s","type":"a.b"}`, 422, "validation_failed", "specversion"},
		{"missing id", []string{"Content-Type", ctCE}, `{"specversion":"1.0","source":"/s","type":"a.b"}`, 422, "validation_failed", "id"},
		{"missing source", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"1","type":"a.b"}`, 422, "validation_failed", "source"},
		{"missing type", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"1","source":"/s"}`, 422, "validation_failed", "type"},
		{"null type", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"1","source":"/s","type":null}`, 422, "validation_failed", "type"},
		{"specversion 0.3", []string{"Content-Type", ctCE}, `{"specversion":"0.3","id":"1","source":"/s","type":"a.b"}`, 422, "validation_failed", "specversion"},
		{"specversion a number", []string{"Content-Type", ctCE}, `{"specversion":1.0,"id":"1","source":"/s","type":"a.b"}`, 422, "validation_failed", "specversion"},
		{"empty id", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"","source":"/s","type":"a.b"}`, 422, "validation_failed", "id"},
		{"id a number", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":5,"source":"/s","type":"a.b"}`, 422, "validation_failed", "id"},
		{"type not gateway syntax", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"1","source":"/s","type":"com.example/order"}`, 422, "validation_failed", "type"},
		{"array body", []string{"Content-Type", ctCE}, `[{` + head + `}]`, 422, "validation_failed", ""},
		{"truncated", []string{"Content-Type", ctCE}, `{` + head, 400, "invalid_json", ""},
		{"empty body", []string{"Content-Type", ctCE}, ``, 400, "invalid_json", ""},

		{"binary, text/plain", ceHeaders("text/plain", "1", "/s", "a.b"), `hello`, 415, "unsupported_media_type", ""},
		{"binary, invalid JSON", ceHeaders("application/json", "1", "/s", "a.b"), `{"a":`, 400, "invalid_json", ""},
		{"binary, missing ce-source", ceHeaders("application/json", "1", "", "a.b"), `1`, 422, "validation_failed", "ce-source"},
		{"binary, missing ce-type", ceHeaders("application/json", "1", "/s", ""), `1`, 422, "validation_failed", "ce-type"},
		{"binary, missing ce-id", ceHeaders("application/json", "", "/s", "a.b"), `1`, 422, "validation_failed", "ce-id"},
		{"binary, specversion 0.3", []string{"Content-Type", "application/json", "Ce-Specversion", "0.3", "Ce-Id", "1", "Ce-Source", "/s", "Ce-Type", "a.b"}, `1`, 422, "validation_failed", "ce-specversion"},
		{"binary, bad type", ceHeaders("application/json", "1", "/s", "a b"), `1`, 422, "validation_failed", "ce-type"},

		{"batch type on the single endpoint", []string{"Content-Type", ctCEBatch}, `[{` + head + `}]`, 422, "validation_failed", ""},
	}
	h := newHarness(t)
	h.requireRefusals(t, "/v1/events", tests)
	requireIDs(t, nil, h.allEvents(""))
}

// The CloudEvents (source, id) pair is the idempotency key, across modes.
func TestAPI_publishCloudEventIdempotency(t *testing.T) {
	structured := func(id, source string) (string, []string) {
		return `{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"order.created","data":{"n":1}}`, []string{"Content-Type", ctCE}
	}
	binary := func(id, source string) (string, []string) {
		return `{"n":1}`, ceHeaders("application/json", id, source, "order.created")
	}
	type send func(id, source string) (string, []string)
	tests := []struct {
		name             string
		first, second    send
		id1, src1        string
		id2, src2        string
		wantSecondStatus int
		wantEvents       int
	}{
		{"same source and id", structured, structured, "1", "/shop", "1", "/shop", 200, 1},
		{"same source and id, binary", binary, binary, "1", "/shop", "1", "/shop", 200, 1},
		{"structured then binary", structured, binary, "1", "/shop", "1", "/shop", 200, 1},
		{"same id, other source", structured, structured, "1", "/shop", "1", "/billing", 202, 2},
		{"same source, other id", structured, binary, "1", "/shop", "2", "/shop", 202, 2},
		{"id that looks like a server id", structured, structured, "evt_x", "/shop", "evt_x", "/shop", 200, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			body, hdr := tc.first(tc.id1, tc.src1)
			first := h.publish(body, hdr...)
			body, hdr = tc.second(tc.id2, tc.src2)
			r := h.postJSON("/v1/events", body, hdr...)
			requireStatus(t, r, tc.wantSecondStatus)
			second := decodeStrict[receiptJSON](t, r)
			if tc.wantSecondStatus == http.StatusOK {
				require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
				require.Equal(t, first, second)
			} else {
				require.Equal(t, tc.src2, h.event(second.ID).Source)
			}
			require.Equal(t, tc.wantEvents, len(h.allEvents("")))
			require.Equal(t, tc.src1, h.event(first.ID).Source)
		})
	}
}

func TestAPI_publishCloudEventBatch(t *testing.T) {
	h := newHarness(t)
	body := `[
		{"specversion":"1.0","id":"1","source":"/shop","type":"order.created","data":{"n":1}},
		{"specversion":"1.0","id":"2","source":"/shop","type":"order.paid","data_base64":"eyJuIjoyfQ=="},
		{"specversion":"1.0","id":"1","source":"/billing","type":"invoice.sent"}
	]`
	r := h.postJSON("/v1/events/batch", body, "Content-Type", ctCEBatch)
	requireStatus(t, r, http.StatusAccepted)
	p := decodeStrict[page[batchReceiptJSON]](t, r)
	require.Equal(t, 3, len(p.Data))
	want := []struct{ source, typ, data string }{
		{"/shop", "order.created", `{"n":1}`},
		{"/shop", "order.paid", `{"n":2}`},
		{"/billing", "invoice.sent", `null`},
	}
	ids := make([]string, len(p.Data))
	for i, w := range want {
		ev := h.event(p.Data[i].ID)
		require.Equal(t, w.source, ev.Source)
		require.Equal(t, w.typ, ev.Type)
		requireJSONEqual(t, w.data, ev.Data)
		ids[i] = ev.ID
	}
	slices.Reverse(ids)
	requireIDs(t, ids, h.allEvents(""))

	// Resending the batch replays every event by its (source, id).
	r = h.postJSON("/v1/events/batch", body, "Content-Type", ctCEBatch)
	requireStatus(t, r, http.StatusOK)
	require.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	again := decodeStrict[page[batchReceiptJSON]](t, r)
	for i := range p.Data {
		require.Equal(t, p.Data[i].ID, again.Data[i].ID)
	}

	batch := []string{"Content-Type", ctCEBatch}
	h.requireRefusals(t, "/v1/events/batch", []refusal{
		{"item 1 lacks source", batch, `[{"specversion":"1.0","id":"9","source":"/s","type":"a.b"},{"specversion":"1.0","id":"9","type":"a.b"}]`, 422, "validation_failed", "events[1].source"},
		{"item 0 has specversion 0.3", batch, `[{"specversion":"0.3","id":"9","source":"/s","type":"a.b"}]`, 422, "validation_failed", "events[0].specversion"},
		{"item 0 has text data", batch, `[{"specversion":"1.0","id":"9","source":"/s","type":"a.b","datacontenttype":"text/plain","data":"x"}]`, 415, "unsupported_media_type", "events[0].datacontenttype"},
		{"object instead of array", batch, `{"events":[]}`, 422, "validation_failed", ""},
		{"empty array", batch, `[]`, 422, "validation_failed", "events"},
		{"conflicting (source, id)", batch, `[{"specversion":"1.0","id":"9","source":"/s","type":"a.b"},{"specversion":"1.0","id":"1","source":"/shop","type":"order.created","data":{"n":2}}]`, 422, "idempotency_key_reused", ""},
	})
	requireIDs(t, ids, h.allEvents(""))
}
