package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// CloudEvents context attributes are checked against the CloudEvents 1.0
// spec (issue 10, findings 7 and 9): time is RFC 3339, id, source, type and
// subject are printable, extension names are [a-z0-9]{1,20}.
func TestAPI_publishCloudEventAttributes(t *testing.T) {
	const head = `"specversion":"1.0","id":"1","source":"/s","type":"a.b"`
	ce := func(attrs string) string { return `{` + head + attrs + `,"data":1}` }
	long := strings.Repeat("x", 2000)
	tests := []refusal{
		{"time not a time", []string{"Content-Type", ctCE}, ce(`,"time":"not-a-time"`), 422, "validation_failed", "time"},
		{"time without zone", []string{"Content-Type", ctCE}, ce(`,"time":"2026-11-28T10:00:00"`), 422, "validation_failed", "time"},
		{"time a number", []string{"Content-Type", ctCE}, ce(`,"time":1700000000`), 422, "validation_failed", "time"},
		{"subject a number", []string{"Content-Type", ctCE}, ce(`,"subject":5`), 422, "validation_failed", "subject"},
		{"subject empty", []string{"Content-Type", ctCE}, ce(`,"subject":""`), 422, "validation_failed", "subject"},
		{"subject with a newline", []string{"Content-Type", ctCE}, ce(`,"subject":"a\nb"`), 422, "validation_failed", "subject"},
		{"subject too long", []string{"Content-Type", ctCE}, ce(`,"subject":"` + long + `"`), 422, "validation_failed", "subject"},
		{"id with a control character", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"a\u0007","source":"/s","type":"a.b"}`, 422, "validation_failed", "id"},
		{"id with a C1 control character", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"a\u0085","source":"/s","type":"a.b"}`, 422, "validation_failed", "id"},
		{"source with DEL", []string{"Content-Type", ctCE}, `{"specversion":"1.0","id":"1","source":"/s\u007f","type":"a.b"}`, 422, "validation_failed", "source"},
		{"extension name uppercase", []string{"Content-Type", ctCE}, ce(`,"Tenant":"x"`), 422, "validation_failed", "Tenant"},
		{"extension name with a dash", []string{"Content-Type", ctCE}, ce(`,"my-ext":"x"`), 422, "validation_failed", "my-ext"},
		{"extension name too long", []string{"Content-Type", ctCE}, ce(`,"abcdefghijklmnopqrstu":"x"`), 422, "validation_failed", "abcdefghijklmnopqrstu"},
		{"extension an object", []string{"Content-Type", ctCE}, ce(`,"tenant":{"a":1}`), 422, "validation_failed", "tenant"},
		{"extension a float", []string{"Content-Type", ctCE}, ce(`,"tenant":1.5`), 422, "validation_failed", "tenant"},
		{"dataschema empty", []string{"Content-Type", ctCE}, ce(`,"dataschema":""`), 422, "validation_failed", "dataschema"},

		{"binary, ce-time not a time", append(ceHeaders("application/json", "1", "/s", "a.b"), "Ce-Time", "not-a-time"), `1`, 422, "validation_failed", "ce-time"},
		{"binary, non-ASCII ce-id", ceHeaders("application/json", "caf\xc3\xa9", "/s", "a.b"), `1`, 422, "validation_failed", "ce-id"},
		{"binary, extension name too long", append(ceHeaders("application/json", "1", "/s", "a.b"), "Ce-Abcdefghijklmnopqrstu", "x"), `1`, 422, "validation_failed", "ce-abcdefghijklmnopqrstu"},
		{"binary, extension name with a dash", append(ceHeaders("application/json", "1", "/s", "a.b"), "Ce-My-Ext", "x"), `1`, 422, "validation_failed", "ce-my-ext"},
	}
	h := newHarness(t)
	h.requireRefusals(t, "/v1/events", tests)
	requireIDs(t, nil, h.allEvents(""))
}

// Two ce-* header lines of one name are refused, not resolved first-wins.
func TestAPI_publishCloudEventDuplicateHeader(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"Ce-Type", "Ce-Id", "Ce-Source", "Ce-Specversion", "Ce-Tenant"} {
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/events", strings.NewReader(`1`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+keyBoth)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", "1")
		req.Header.Set("Ce-Source", "/s")
		req.Header.Set("Ce-Type", "a.b")
		req.Header.Set("Ce-Tenant", "t1")
		req.Header.Add(name, "a.c")
		res, err := h.srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		requireAPIError(t, response{status: res.StatusCode, header: res.Header, body: body}, http.StatusBadRequest, "invalid_parameter", strings.ToLower(name))
	}
	requireIDs(t, nil, h.allEvents(""))
}

// time, subject, dataschema and extension attributes stay with the event:
// GET /v1/events/{id} shows them under "cloudevent", with the producer's id.
func TestAPI_publishCloudEventKeepsAttributes(t *testing.T) {
	h := newHarness(t)
	structured := h.publish(`{"specversion":"1.0","id":"c-1","source":"/shop","type":"order.created",`+
		`"time":"2026-11-27T09:30:00.5+01:00","subject":"order/42","dataschema":"https://example.com/s.json",`+
		`"tenant":"acme","retries":3,"sampled":true,"data":{"n":1}}`, "Content-Type", ctCE)
	binary := h.publish(`{"n":2}`, append(ceHeaders("application/json", "c-2", "/shop", "order.created"),
		"Ce-Time", "2026-11-27T09:30:00Z", "Ce-Subject", "order/43", "Ce-Tenant", "acme")...)
	plain := h.publish(`{"type":"order.created","data":3}`)

	for _, tc := range []struct{ id, want string }{
		{structured.ID, `{"id":"c-1","time":"2026-11-27T09:30:00.5+01:00","subject":"order/42","dataschema":"https://example.com/s.json","retries":3,"sampled":true,"tenant":"acme"}`},
		{binary.ID, `{"id":"c-2","time":"2026-11-27T09:30:00Z","subject":"order/43","tenant":"acme"}`},
	} {
		r := h.get("/v1/events/" + tc.id)
		requireStatus(t, r, http.StatusOK)
		var got struct {
			CloudEvent json.RawMessage `json:"cloudevent"`
		}
		require.NoError(t, json.Unmarshal(r.body, &got))
		requireJSONEqual(t, tc.want, got.CloudEvent)
	}
	r := h.get("/v1/events/" + plain.ID)
	require.False(t, strings.Contains(string(r.body), "cloudevent"), "a plain event has no cloudevent attributes: %s", r.body)
}
