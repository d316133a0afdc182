package plugintest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventgw/gateway/sdk/abi"
)

// Event is a test event. NewEvent fills it in; change the fields freely.
type Event struct {
	ID        string
	Type      string
	Source    string
	Time      time.Time
	WebhookID string // set it to test a per-webhook transform
	Data      []byte
}

// NewEvent returns an event of type typ. data is the event's data: a
// string, []byte or json.RawMessage is used as is (it should be JSON); any
// other value is marshalled with encoding/json. NewEvent panics if that
// fails.
func NewEvent(typ string, data any) Event {
	var raw []byte
	switch d := data.(type) {
	case string:
		raw = []byte(d)
	case []byte:
		raw = d
	case json.RawMessage:
		raw = d
	default:
		var err error
		if raw, err = json.Marshal(d); err != nil {
			panic(fmt.Sprintf("plugintest: NewEvent: %v", err))
		}
	}
	return Event{
		ID:     "evt_test",
		Type:   typ,
		Source: "plugintest",
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Data:   raw,
	}
}

// meta is the meta document the gateway sends with e.
func (e Event) meta() abi.Meta {
	m := abi.Meta{ID: e.ID, Type: e.Type, Source: e.Source, WebhookID: e.WebhookID}
	if !e.Time.IsZero() {
		m.Time = e.Time.Format(time.RFC3339Nano)
	}
	return m
}
