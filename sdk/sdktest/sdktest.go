package sdktest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/abi"
	"github.com/eventgw/gateway/sdk/internal/fakehost"
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
// string, []byte or json.RawMessage is used as is (it should be JSON);
// any other value is marshalled with encoding/json. NewEvent panics if that
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
			panic(fmt.Sprintf("sdktest: NewEvent: %v", err))
		}
	}
	return Event{
		ID:     "evt_test",
		Type:   typ,
		Source: "sdktest",
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Data:   raw,
	}
}

// Meta returns the meta document the gateway would send with e.
func (e Event) Meta() []byte {
	m := abi.Meta{ID: e.ID, Type: e.Type, Source: e.Source, WebhookID: e.WebhookID}
	if !e.Time.IsZero() {
		m.Time = e.Time.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // strings only
	}
	return b
}

// SDKEvent returns the *sdk.Event a handler would get for e, to call a
// handler function directly rather than through Run.
func (e Event) SDKEvent() *sdk.Event {
	g := guest()
	v, err := g.NewEvent(e.Meta(), e.Data)
	if err != nil {
		panic(fmt.Sprintf("sdktest: SDKEvent: %v", err))
	}
	return v.(*sdk.Event)
}

func guest() fakehost.Guest {
	g := fakehost.CurrentGuest()
	if g == nil {
		panic("sdktest: works only in the native build, not GOOS=wasip1")
	}
	return g
}

// Log is one log line.
type Log struct {
	Level sdk.Level
	Msg   string
}

// Result is what one Run produced.
type Result struct {
	// Kind is the plugin's kind.
	Kind abi.Kind
	// Code is the handler's return value, as the gateway sees it: an
	// abi.Allow/Flag/Deny, abi.Unchanged/Replaced/Drop or abi.ObserveOK
	// code, or a negative abi.Result* code.
	Code int32
	// Err is the cause of a negative Code, such as the error the handler
	// returned (errors.Is works on it).
	Err error
	// Reason is a filter's deny or flag reason.
	Reason string
	// Output is a transform's new data (Code abi.Replaced).
	Output []byte
	// Logs are the lines logged during the call.
	Logs []Log
}

// Allowed reports whether a filter allowed the event (flagged included).
func (r Result) Allowed() bool {
	return r.Kind == abi.KindFilter && (r.Code == abi.Allow || r.Code == abi.Flag)
}

// Flagged reports whether a filter flagged the event.
func (r Result) Flagged() bool { return r.Kind == abi.KindFilter && r.Code == abi.Flag }

// Denied reports whether a filter denied the event.
func (r Result) Denied() bool { return r.Kind == abi.KindFilter && r.Code == abi.Deny }

// Replaced reports whether a transform replaced the data (see Output).
func (r Result) Replaced() bool { return r.Kind == abi.KindTransform && r.Code == abi.Replaced }

// Unchanged reports whether a transform kept the data.
func (r Result) Unchanged() bool { return r.Kind == abi.KindTransform && r.Code == abi.Unchanged }

// Dropped reports whether a transform dropped the event.
func (r Result) Dropped() bool { return r.Kind == abi.KindTransform && r.Code == abi.Drop }

// Failed reports whether the call was a plugin error (see Err).
func (r Result) Failed() bool { return r.Code < 0 }

// String describes the result, as "filter: deny (reason)".
func (r Result) String() string {
	var s string
	switch {
	case r.Failed():
		s = fmt.Sprintf("error %d (%v)", r.Code, r.Err)
	case r.Kind == abi.KindFilter:
		s = [...]string{"allow", "flag", "deny"}[r.Code%3]
		if r.Reason != "" {
			s += " (" + r.Reason + ")"
		}
	case r.Kind == abi.KindTransform:
		s = [...]string{"unchanged", "replaced", "drop"}[r.Code%3]
		if r.Replaced() {
			s += " " + string(r.Output)
		}
	default:
		s = "ok"
	}
	return string(r.Kind) + ": " + s
}

// Run calls the plugin's registered handler with ev, as the gateway does,
// and returns what it did. It panics if no handler is registered.
func Run(ev Event) Result {
	g := guest()
	code := g.Kind()
	kind, ok := abi.KindOf(code)
	if !ok {
		panic("sdktest: Run: the plugin registered no handler (call sdk.Filter, sdk.Transform or sdk.Observe from init)")
	}
	fr := fakehost.Default.Call(g, code, ev.Meta(), ev.Data)
	r := Result{Kind: kind, Code: fr.Code, Err: fr.Err, Reason: fr.Reason, Output: fr.Output}
	for _, l := range fr.Logs {
		r.Logs = append(r.Logs, Log{Level: sdk.Level(l.Level), Msg: l.Msg})
	}
	return r
}

// Reset empties the fake host: config, KV store and quota, logs, metrics,
// and the clock's advance. Call it at the start of each test.
func Reset() { fakehost.Default.Reset() }

// SetConfig sets a value that sdk.Config returns.
func SetConfig(key, value string) { fakehost.Default.SetConfig(key, value) }

// SetKVQuota limits the KV store to n bytes of keys and values, as the
// gateway's per-plugin quota does (0: no limit).
func SetKVQuota(n int) { fakehost.Default.SetKVQuota(n) }

// Advance moves the fake host's clock forward by d, expiring KV entries
// whose TTL ends within it.
func Advance(d time.Duration) { fakehost.Default.Advance(d) }

// KV returns the live value at key in the plugin's KV store.
func KV(key string) ([]byte, bool) { return fakehost.Default.KV(key) }

// KVKeys returns the live keys of the plugin's KV store, sorted.
func KVKeys() []string { return fakehost.Default.KVKeys() }

// SetKV stores a value, as sdk.KVSet does, to set up a test.
func SetKV(key string, val []byte, ttl time.Duration) error {
	return sdk.KVSet(key, val, ttl)
}

// Logs returns every line logged since Reset, in and out of Run.
func Logs() []Log {
	var out []Log
	for _, l := range fakehost.Default.Logs() {
		out = append(out, Log{Level: sdk.Level(l.Level), Msg: l.Msg})
	}
	return out
}

// Metric returns the counter name.
func Metric(name string) int64 { return fakehost.Default.Metrics()[name] }

// Metrics returns every counter added since Reset.
func Metrics() map[string]int64 { return fakehost.Default.Metrics() }
