package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/bus"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// publishBatch stores items in one batch and returns their ids in order.
func (h *harness) publishBatch(items []string) []string {
	h.tb.Helper()
	r := h.postJSON("/v1/events/batch", `{"events":[`+strings.Join(items, ",")+`]}`)
	requireStatus(h.tb, r, http.StatusAccepted)
	p := decodeStrict[page[batchReceiptJSON]](h.tb, r)
	ids := make([]string, len(p.Data))
	for i, rc := range p.Data {
		ids[i] = rc.ID
	}
	return ids
}

// newestFirst returns ids reversed, as the listing orders them.
func newestFirst(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// pickIDs returns ids[i] for each i in idx, in that order.
func pickIDs(ids []string, idx ...int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = ids[j]
	}
	return out
}

func TestAPI_listEvents(t *testing.T) {
	h := newHarness(t)
	types := []string{"order.created", "order.created.v2", "order.paid", "order.created", "order", "order.paid"}
	items := make([]string, len(types))
	for i, typ := range types {
		items[i] = fmt.Sprintf(`{"type":%q,"data":{"n":%d}}`, typ, i)
	}
	ids := h.publishBatch(items)
	pick := func(idx ...int) []string { return pickIDs(ids, idx...) }
	tests := []struct {
		query string
		want  []string
	}{
		{"", newestFirst(ids)},
		{"type=order.created", pick(3, 0)},
		{"type=order.paid", pick(5, 2)},
		{"type=order", pick(4)},
		{"type=order.created.v2", pick(1)},
		{"type=order.refunded", nil},
		{"limit=2", pick(5, 4)},
		{"limit=1&type=order.created", pick(3)},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := h.get("/v1/events?" + tc.query)
			requireStatus(t, r, http.StatusOK)
			p := decodeStrict[page[eventJSON]](t, r)
			got := make([]string, len(p.Data))
			for i, ev := range p.Data {
				got[i] = ev.ID
				require.Equal(t, "dispatched", ev.Status)
			}
			requireIDs(t, tc.want, got)
			require.True(t, p.Data != nil, "data must be [] when empty, not null: %s", r.body)
		})
	}
}

// Paging through 25 events, 10 at a time, yields each event once.
func TestAPI_listEventsPagination(t *testing.T) {
	h := newHarness(t)
	var items []string
	for i := range 50 {
		typ := "a.b"
		if i%2 == 1 {
			typ = "a.c"
		}
		items = append(items, fmt.Sprintf(`{"type":%q,"data":%d}`, typ, i))
	}
	ids := h.publishBatch(items)
	var typeB []string
	for i, id := range ids {
		if i%2 == 0 {
			typeB = append(typeB, id)
		}
	}
	tests := []struct {
		name  string
		query string
		want  []string
		pages []int
	}{
		{"type filter", "type=a.b&limit=10", newestFirst(typeB), []int{10, 10, 5}},
		{"all", "limit=20", newestFirst(ids), []int{20, 20, 10}},
		{"exact fit", "type=a.b&limit=25", newestFirst(typeB), []int{25}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var sizes []int
			for _, p := range getPages[eventJSON](t, h, "/v1/events?"+tc.query, len(tc.pages)) {
				sizes = append(sizes, len(p))
				for _, ev := range p {
					got = append(got, ev.ID)
				}
			}
			require.Equal(t, fmt.Sprint(tc.pages), fmt.Sprint(sizes))
			requireIDs(t, tc.want, got)
		})
	}
}

func TestAPI_listEventsTimeRange(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for i := range 5 {
		h.clock.Set(t0.Add(time.Duration(i) * time.Minute))
		ids = append(ids, h.publish(fmt.Sprintf(`{"type":"a.b","data":%d}`, i)).ID)
	}
	at := func(d time.Duration) string { return url.QueryEscape(t0.Add(d).Format(time.RFC3339Nano)) }
	pick := func(idx ...int) []string { return pickIDs(ids, idx...) }
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"since and until, inclusive", "since=" + at(time.Minute) + "&until=" + at(3*time.Minute), pick(3, 2, 1)},
		{"since only", "since=" + at(3*time.Minute), pick(4, 3)},
		{"until only", "until=" + at(time.Minute), pick(1, 0)},
		{"since just after an event", "since=" + at(time.Minute+time.Nanosecond), pick(4, 3, 2)},
		{"until just before an event", "until=" + at(3*time.Minute-time.Nanosecond), pick(2, 1, 0)},
		{"until in the same millisecond", "until=" + at(3*time.Minute+500*time.Microsecond), pick(3, 2, 1, 0)},
		{"offset time zone", "since=" + url.QueryEscape("2026-11-28T11:02:00+01:00"), pick(4, 3, 2)},
		{"since after until", "since=" + at(3*time.Minute) + "&until=" + at(time.Minute), nil},
		{"before everything", "until=" + at(-time.Hour), nil},
		{"paged by 2, with type", "type=a.b&limit=2&since=" + at(time.Minute), pick(4, 3, 2, 1)},
		{"paged by 1", "limit=1&since=" + at(time.Minute) + "&until=" + at(3*time.Minute), pick(3, 2, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireIDs(t, tc.want, h.allEvents(tc.query))
		})
	}
}

func TestAPI_listEventsBadParameters(t *testing.T) {
	h := newHarness(t)
	h.publish(`{"type":"a.b","data":1}`)
	tests := []struct {
		query string
		field string
	}{
		{"cursor=!!!", "cursor"},
		{"cursor=AAAA", "cursor"},
		{"cursor=" + strings.Repeat("A", 40), "cursor"},
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"limit=1.5", "limit"},
		{"since=yesterday", "since"},
		{"since=2026-11-28", "since"},
		{"since=2026-13-01T00:00:00Z", "since"},
		{"until=1732788000", "until"},
		{"type=a..b", "type"},
		{"type=a.*", "type"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			requireAPIError(t, h.get("/v1/events?"+tc.query), http.StatusBadRequest, "invalid_parameter", tc.field)
		})
	}
}

func TestAPI_getEvent(t *testing.T) {
	h := newHarness(t)
	server := h.publish(`{"type":"a.b","source":"/s","data":{"k":"v"}}`)
	client := h.publish(`{"id":"order-42_created:v1","type":"a.c","data":[1]}`)

	ev := h.event(server.ID)
	require.Equal(t, server.ID, ev.ID)
	require.Equal(t, "a.b", ev.Type)
	require.Equal(t, "/s", ev.Source)
	requireJSONEqual(t, `{"k":"v"}`, ev.Data)
	require.Equal(t, "dispatched", ev.Status)

	ev = h.event(client.ID)
	require.Equal(t, "order-42_created:v1", ev.ID)
	require.Equal(t, "a.c", ev.Type)
	require.Equal(t, "", ev.Source)
	requireJSONEqual(t, `[1]`, ev.Data)

	for _, id := range []string{
		"order-43",
		"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV", // well-formed, never stored
		strings.ToLower(server.ID),       // the same seq, spelled otherwise
		"evt_not-a-ulid",
		"batch",
	} {
		t.Run(id, func(t *testing.T) {
			requireAPIError(t, h.get("/v1/events/"+id), http.StatusNotFound, "not_found", "id")
		})
	}
}

// An event is pending until every durable subscriber has handled it.
func TestAPI_eventStatus(t *testing.T) {
	entered := make(chan []event.Event)
	release := make(chan struct{})
	blocking := bus.SubscriberFunc(func(ctx context.Context, evs []event.Event) error {
		select {
		case entered <- evs:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	never := bus.SubscriberFunc(func(ctx context.Context, _ []event.Event) error {
		<-ctx.Done()
		return ctx.Err()
	})
	all := event.Patterns{event.MustParsePattern(">")}
	h := newHarness(t,
		withSubscription(bus.Subscription{Name: "slow", Patterns: all, Durable: true, Subscriber: blocking}),
		// A non-durable subscriber, however stuck, does not hold status back.
		withSubscription(bus.Subscription{Name: "ephemeral", Patterns: all, Subscriber: never}),
	)
	status := func(id string) string {
		t.Helper()
		return h.event(id).Status
	}

	first := h.publish(`{"type":"a.b","data":1}`)
	got := <-entered
	require.Equal(t, first.ID, got[0].ID)
	require.Equal(t, "pending", status(first.ID))
	r := h.get("/v1/events")
	requireStatus(t, r, http.StatusOK)
	require.Equal(t, "pending", decodeStrict[page[eventJSON]](t, r).Data[0].Status)

	release <- struct{}{}
	// The subscriber entering Handle again proves the bus moved its cursor
	// past the first event.
	second := h.publish(`{"type":"a.b","data":2}`)
	got = <-entered
	require.Equal(t, second.ID, got[0].ID)
	require.Equal(t, "dispatched", status(first.ID))
	require.Equal(t, "pending", status(second.ID))
}
