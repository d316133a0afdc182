package httpapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/jsonstrict"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// requireClientError checks that a decode failure is an *httpapi.Error the
// client caused: a 4xx other than 413 (decoders never see the size), with a
// code and a message.
func requireClientError(t *testing.T, err error) {
	t.Helper()
	var e *httpapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *httpapi.Error, got %T: %v", err, err)
	}
	if e.Status < 400 || e.Status > 499 || e.Status == http.StatusRequestEntityTooLarge {
		t.Fatalf("decode error with status %d: %v", e.Status, e)
	}
	if e.Code == "" || e.Message == "" {
		t.Fatalf("decode error without code or message: %#v", e)
	}
}

// requireValidDraft checks what every decoded draft must satisfy before it
// reaches the store.
func requireValidDraft(t *testing.T, d store.Draft) {
	t.Helper()
	if err := event.ValidateType(d.Type); err != nil {
		t.Fatalf("decoded type %q: %v", d.Type, err)
	}
	if !json.Valid(d.Data) {
		t.Fatalf("decoded data is not JSON: %q", d.Data)
	}
	if d.CloudEvent != nil {
		if err := jsonstrict.Check(d.CloudEvent, 2); err != nil || d.CloudEvent[0] != '{' {
			t.Fatalf("decoded CloudEvent attributes are not a strict JSON object: %q: %v", d.CloudEvent, err)
		}
	}
	if err := jsonstrict.Check(d.Data, 0); err != nil {
		t.Fatalf("decoded data is not strict JSON: %q: %v", d.Data, err)
	}
	if d.ID != "" {
		if err := event.ValidateID(d.ID); err != nil {
			t.Fatalf("decoded id %q: %v", d.ID, err)
		}
		if d.IdemKey == "" {
			t.Fatalf("draft with id %q has no idempotency key", d.ID)
		}
	}
}

// FuzzDecodeEvent feeds DecodeEvent arbitrary headers and bodies. It must
// not panic; a draft must be storable and an error must be a client error.
func FuzzDecodeEvent(f *testing.F) {
	type seed struct {
		ct, specversion, id, source, typ, idem, body string
	}
	for _, s := range []seed{
		// Plain JSON.
		{ct: "application/json", body: `{"type":"order.created","data":{"n":1}}`},
		{ct: "application/json; charset=utf-8", idem: "k-1", body: `{"id":"order-1","type":"a.b","source":"/s","data":null}`},
		{ct: "text/json", body: `{"type":"a","data":[1,"x",{"y":true}]}`},
		{ct: "application/json", body: `{"id":"evt_x","type":"a.b","data":1}`},
		{ct: "application/json", body: `{"type":"a..b","data":1}`},
		{ct: "application/json", body: `{"type":"a.b"}`},
		{ct: "application/json", body: `{"type":"a.b","data":1,"x":2}`},
		{ct: "application/json", body: `{"type":"a.b","data":`},
		{ct: "application/json", body: `{"type":"a.b","data":1} {}`},
		{ct: "application/json", body: `[1]`},
		{ct: "application/json", body: `null`},
		{ct: "application/json", body: ``},
		{ct: "application/json", idem: "\x01", body: `{"type":"a.b","data":1}`},
		{ct: "application/json", body: `{"type":"a.b","type":"c.d","data":1}`},
		{ct: "application/json", body: `{"type":"a.b","data":{"amount":1,"Amount":999999}}`},
		{ct: "application/json", body: "{\"type\":\"a.b\",\"data\":\"\xff\\ud800\"}"},
		// CloudEvents, structured.
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":{"k":"v"}}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data_base64":"eyJrIjoidiJ9"}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data_base64":"aGk="}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","datacontenttype":"text/plain","data":"hi"}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"0.3","id":"1","source":"/s","type":"a.b"}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":5,"source":"/s","type":"a.b","data":1,"data_base64":""}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","time":"2026-11-28T10:00:00Z","subject":"x","dataschema":"https://e.x/s","tenant":"t","n":3,"ok":true,"data":1}`},
		{ct: "application/cloudevents+json", body: `{"specversion":"1.0","id":"1","source":"/s","type":"a.b","time":"not-a-time","My-Ext":{"a":1},"n":1.5}`},
		// CloudEvents, binary.
		{ct: "application/json", specversion: "1.0", id: "1", source: "/s", typ: "a.b", body: `{"k":"v"}`},
		{ct: "application/json", specversion: "1.0", id: "1", source: "/s", typ: "a.b", body: `{"k":"v","k":"w"}`},
		{ct: "application/json", specversion: "1.0", id: "1", source: "/s", typ: "a.b", body: ``},
		{ct: "text/plain", specversion: "1.0", id: "1", source: "/s", typ: "a.b", body: `hello`},
		{ct: "application/json", specversion: "1.0", id: "1", source: "/s", typ: "a b", body: `1`},
		{ct: "application/json", specversion: "1.0", id: "caf%C3%A9%2F1", source: "/s", typ: "a.b", body: `1`},
		{ct: "application/json", specversion: "1.0", id: "caf\xc3\xa9", source: "/s\x7f", typ: "a.b", body: `1`},
		{ct: "application/cloudevents+json", specversion: "1.0", id: "1", source: "/s", typ: "a.b", body: `{}`},
		// Media types.
		{ct: "", body: `{"type":"a.b","data":1}`},
		{ct: "application/x-www-form-urlencoded", body: `type=a.b`},
		{ct: "application/", body: `{}`},
		{ct: "application/cloudevents-batch+json", body: `[{}]`},
	} {
		f.Add(s.ct, s.specversion, s.id, s.source, s.typ, s.idem, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct, specversion, id, source, typ, idem string, body []byte) {
		h := http.Header{}
		for _, kv := range [][2]string{
			{"Content-Type", ct}, {"Ce-Specversion", specversion}, {"Ce-Id", id},
			{"Ce-Source", source}, {"Ce-Type", typ}, {"Idempotency-Key", idem},
		} {
			if kv[1] != "" {
				h.Set(kv[0], kv[1])
			}
		}
		d, err := httpapi.DecodeEvent(h, body, 0)
		if err != nil {
			requireClientError(t, err)
			return
		}
		requireValidDraft(t, d)
		if specversion != "" && !strings.HasPrefix(d.IdemKey, "ce:") {
			t.Fatalf("binary-mode CloudEvent without its (source, id) key: %q", d.IdemKey)
		}
	})
}

// FuzzDecodeBatch is FuzzDecodeEvent for batches.
func FuzzDecodeBatch(f *testing.F) {
	const max = 5
	for _, s := range []struct{ ct, idem, body string }{
		{"application/json", "", `{"events":[{"type":"a.b","data":1},{"id":"o-1","type":"a.c","source":"/s","data":{}}]}`},
		{"application/json", "batch-1", `{"events":[{"type":"a.b","data":1},{"type":"a.b","data":1}]}`},
		{"application/json", "", `{"events":[{"type":"a.b","data":1},{"data":1}]}`},
		{"application/json", "", `{"events":[1]}`},
		{"application/json", "", `{"events":[]}`},
		{"application/json", "", `{"events":[{},{},{},{},{},{}]}`},
		{"application/json", "", `{"events":null,"x":1}`},
		{"application/json", "", `{"events":[{"type":"a.b","data":1}`},
		{"application/json", "", `[]`},
		{"application/json", "", `{"events":[{"type":"a.b","data":{"a":[{"b":1,"b":2}]}}]}`},
		{"application/json", "", ``},
		{"application/cloudevents-batch+json", "", `[{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data":1}]`},
		{"application/cloudevents-batch+json", "k", `[{"specversion":"1.0","id":"1","source":"/s","type":"a.b","data_base64":"MQ=="},{"specversion":"1.0","id":"2","source":"/s","type":"a.b"}]`},
		{"application/cloudevents-batch+json", "", `[{"specversion":"1.0","id":"1","source":"/s","type":"a.b","datacontenttype":"text/plain"}]`},
		{"application/cloudevents-batch+json", "", `{"events":[]}`},
		{"application/cloudevents+json", "", `[]`},
		{"text/plain", "", `{"events":[]}`},
		{"", "", `{"events":[]}`},
	} {
		f.Add(s.ct, s.idem, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct, idem string, body []byte) {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		if idem != "" {
			h.Set("Idempotency-Key", idem)
		}
		ds, err := httpapi.DecodeBatch(h, body, max, 0)
		if err != nil {
			requireClientError(t, err)
			return
		}
		if len(ds) == 0 || len(ds) > max {
			t.Fatalf("decoded %d drafts; want 1 to %d", len(ds), max)
		}
		for _, d := range ds {
			requireValidDraft(t, d)
		}
	})
}
