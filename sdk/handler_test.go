//go:build !wasip1

package sdk

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk/abi"
	"github.com/eventgw/gateway/sdk/internal/fakehost"
)

// registered sets up a clean registration and fake host for one test.
func registered(t *testing.T, register func()) {
	t.Helper()
	saved := registration // the examples' init registered a filter
	registration.kind = ""
	registration.filter, registration.transform, registration.observe = nil, nil, nil
	fakehost.Default.Reset()
	t.Cleanup(func() {
		registration = saved
		fakehost.Default.Reset()
	})
	if register != nil {
		register()
	}
}

const testMeta = `{"id":"evt_1","type":"payment.created","source":"shop","time":"2026-01-02T03:04:05.123456789Z","webhook_id":"wh_1"}`

func call(kind int32, data string) fakehost.Result {
	return fakehost.Default.Call(fakehost.CurrentGuest(), kind, []byte(testMeta), []byte(data))
}

func TestFilter_verdicts(t *testing.T) {
	tests := []struct {
		v          Verdict
		code       int32
		reason     string
		verdictStr string
	}{
		{Allow(), abi.Allow, "", "allow"},
		{Verdict{}, abi.Allow, "", "allow"},
		{Flag("odd"), abi.Flag, "odd", "flag: odd"},
		{Flag(""), abi.Flag, "", "flag"},
		{Deny("too much"), abi.Deny, "too much", "deny: too much"},
		{Deny(strings.Repeat("é", 600)), abi.Deny, strings.Repeat("é", 512), "deny: " + strings.Repeat("é", 600)},
	}
	for _, tt := range tests {
		registered(t, func() { Filter(func(*Event) Verdict { return tt.v }) })
		r := call(abi.KindCodeFilter, `{}`)
		if r.Code != tt.code || r.Reason != tt.reason || r.Err != nil {
			t.Errorf("%v: got code %d reason %q err %v", tt.v, r.Code, r.Reason, r.Err)
		}
		if s := tt.v.String(); s != tt.verdictStr {
			t.Errorf("String() = %q, want %q", s, tt.verdictStr)
		}
	}
}

func TestTransform_results(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		out    []byte
		err    error
		code   int32
		output string
		is     error
	}{
		{"unchanged", nil, nil, abi.Unchanged, "", nil},
		{"replaced", []byte(`{"a":1}`), nil, abi.Replaced, `{"a":1}`, nil},
		{"drop", nil, ErrDrop, abi.Drop, "", nil},
		{"wrapped drop", nil, errors.Join(ErrDrop), abi.Drop, "", nil},
		{"error", nil, boom, abi.ResultFailed, "", boom},
		{"invalid JSON", []byte(`{"a":`), nil, abi.ResultFailed, "", nil},
		{"too large", []byte(`"` + strings.Repeat("x", abi.MaxOutputBytes) + `"`), nil, abi.ResultFailed, "", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registered(t, func() { Transform(func(*Event) ([]byte, error) { return tt.out, tt.err }) })
			r := call(abi.KindCodeTransform, `{}`)
			if r.Code != tt.code || string(r.Output) != tt.output {
				t.Errorf("got code %d output %q err %v", r.Code, r.Output, r.Err)
			}
			if tt.is != nil && !errors.Is(r.Err, tt.is) {
				t.Errorf("err = %v, want %v", r.Err, tt.is)
			}
			if r.Code < 0 && (len(r.Logs) != 1 || r.Logs[0].Level != abi.LevelError) {
				t.Errorf("a failed call logs its cause once at error: %v", r.Logs)
			}
		})
	}
}

func TestObserve(t *testing.T) {
	var seen []string
	registered(t, func() {
		Observe(func(e *Event) error {
			seen = append(seen, e.ID())
			if e.Type() == "bad" {
				return errors.New("bad event")
			}
			return nil
		})
	})
	if r := call(abi.KindCodeObserver, `{}`); r.Code != abi.ObserveOK {
		t.Errorf("got %+v", r)
	}
	r := fakehost.Default.Call(fakehost.CurrentGuest(), abi.KindCodeObserver, []byte(`{"id":"e2","type":"bad"}`), nil)
	if r.Code != abi.ResultFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "bad event") {
		t.Errorf("got %+v", r)
	}
	if strings.Join(seen, ",") != "evt_1,e2" {
		t.Errorf("seen %v", seen)
	}
}

func TestHandle_wrongKind(t *testing.T) {
	registered(t, func() { Filter(func(*Event) Verdict { return Deny("no") }) })
	if got := kindCode(); got != abi.KindCodeFilter {
		t.Fatalf("kindCode = %d", got)
	}
	for _, k := range []int32{abi.KindCodeObserver, abi.KindCodeTransform} {
		if r := call(k, `{}`); r.Code != abi.ResultWrongKind || r.Err == nil {
			t.Errorf("kind %d: got %+v", k, r)
		}
	}
	registered(t, nil)
	if got := kindCode(); got != abi.KindCodeNone {
		t.Fatalf("kindCode with nothing registered = %d", got)
	}
	r := call(abi.KindCodeFilter, `{}`)
	if r.Code != abi.ResultWrongKind || !strings.Contains(r.Err.Error(), "no handler") {
		t.Errorf("got %+v", r)
	}
}

func TestHandle_badMeta(t *testing.T) {
	registered(t, func() { Filter(func(*Event) Verdict { return Allow() }) })
	for _, meta := range []string{``, `[]`, `{"id":`, `{"id":"x"`, `{"id":"\q"}`, `{"id" "x"}`, `{"id":"x",}`} {
		r := fakehost.Default.Call(fakehost.CurrentGuest(), abi.KindCodeFilter, []byte(meta), nil)
		if r.Code != abi.ResultBadInput {
			t.Errorf("meta %s: got %+v", meta, r)
		}
	}
}

func TestRegister_twicePanics(t *testing.T) {
	tests := []struct {
		name   string
		second func()
		want   string
	}{
		{"filter twice", func() { Filter(func(*Event) Verdict { return Allow() }) }, "sdk.Filter called, but a filter handler is already registered"},
		{"then transform", func() { Transform(func(*Event) ([]byte, error) { return nil, nil }) }, "sdk.Transform called, but a filter handler"},
		{"then observe", func() { Observe(func(*Event) error { return nil }) }, "sdk.Observe called, but a filter handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registered(t, func() { Filter(func(*Event) Verdict { return Allow() }) })
			msg := panicMessage(tt.second)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("panic %q, want it to contain %q", msg, tt.want)
			}
			if kindCode() != abi.KindCodeFilter {
				t.Error("the first registration must stand")
			}
		})
	}
	registered(t, nil)
	if msg := panicMessage(func() { Observe(nil) }); !strings.Contains(msg, "nil handler") {
		t.Errorf("nil handler: panic %q", msg)
	}
}

func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg, _ = r.(string)
		}
	}()
	f()
	return ""
}

func TestEvent_accessors(t *testing.T) {
	var e *Event
	registered(t, func() { Filter(func(ev *Event) Verdict { e = ev; return Allow() }) })
	call(abi.KindCodeFilter, `{"amount": 12, "customer": {"email": "a@b.c"}}`)
	if e.ID() != "evt_1" || e.Type() != "payment.created" || e.Source() != "shop" || e.WebhookID() != "wh_1" {
		t.Errorf("meta: %+v", *e)
	}
	if got := e.Time().Format("2006-01-02T15:04:05.999999999Z07:00"); got != "2026-01-02T03:04:05.123456789Z" {
		t.Errorf("Time = %s", got)
	}
	if v, ok := e.Get("customer.email"); v != "a@b.c" || !ok {
		t.Errorf("Get = %q, %v", v, ok)
	}
	var v struct{ Amount int }
	if err := e.Decode(&v); err != nil || v.Amount != 12 {
		t.Errorf("Decode: %v, %+v", err, v)
	}
	if string(e.Data()) != `{"amount": 12, "customer": {"email": "a@b.c"}}` {
		t.Errorf("Data = %s", e.Data())
	}
}

func TestEvent_parseMeta(t *testing.T) {
	tests := []struct {
		meta string
		want Event
	}{
		{`{}`, Event{}},
		{` { "id" : "a\"b" , "type":"t\u00e9", "extra": {"x": [1, "}"]}, "source": null, "time": "x" } `,
			Event{id: `a"b`, typ: "té", time: "x"}},
		{`{"webhook_id":"wh","unknown":true,"id":"i"}`, Event{id: "i", webhookID: "wh"}},
	}
	for _, tt := range tests {
		var e Event
		if err := e.parseMeta([]byte(tt.meta)); err != nil {
			t.Errorf("%s: %v", tt.meta, err)
			continue
		}
		if e.id != tt.want.id || e.typ != tt.want.typ || e.source != tt.want.source || e.time != tt.want.time || e.webhookID != tt.want.webhookID {
			t.Errorf("%s: got %+v, want %+v", tt.meta, e, tt.want)
		}
	}
	var e Event
	if !e.Time().IsZero() {
		t.Error("no time: want zero")
	}
}

func TestTruncate(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abc", 2, "ab"}, {"aé", 2, "a"}, {"é", 1, ""}, {"😀x", 3, ""}, {"😀x", 4, "😀"},
	} {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
