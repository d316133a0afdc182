package sdktest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/abi"
	"github.com/eventgw/gateway/sdk/sdktest"
)

// The test binary is a transform plugin: it upper-cases "name", drops
// events of type "spam" and fails on "boom".
func init() {
	sdk.Transform(func(e *sdk.Event) ([]byte, error) {
		switch e.Type() {
		case "spam":
			return nil, sdk.ErrDrop
		case "boom":
			return nil, errors.New("boom")
		case "keep":
			return nil, nil
		}
		name, _ := e.Get("name")
		sdk.Info("renaming " + name + " for " + e.WebhookID())
		sdk.MetricAdd("renamed", 1)
		if err := sdk.KVSet("last", []byte(name), time.Hour); err != nil {
			return nil, err
		}
		return []byte(`{"name":"` + strings.ToUpper(name) + `"}`), nil
	})
}

func TestRun(t *testing.T) {
	sdktest.Reset()
	ev := sdktest.NewEvent("user.created", map[string]string{"name": "ann"})
	ev.WebhookID = "wh_1"
	r := sdktest.Run(ev)
	if !r.Replaced() || string(r.Output) != `{"name":"ANN"}` || r.Kind != abi.KindTransform {
		t.Fatalf("got %v", r)
	}
	if len(r.Logs) != 1 || r.Logs[0].Level != sdk.LevelInfo || r.Logs[0].Msg != "renaming ann for wh_1" {
		t.Errorf("logs: %v", r.Logs)
	}
	if v, ok := sdktest.KV("last"); !ok || string(v) != "ann" {
		t.Errorf("KV: %q, %v", v, ok)
	}
	if keys := sdktest.KVKeys(); len(keys) != 1 || keys[0] != "last" {
		t.Errorf("KVKeys: %v", keys)
	}
	if sdktest.Metric("renamed") != 1 || len(sdktest.Metrics()) != 1 {
		t.Errorf("metrics: %v", sdktest.Metrics())
	}
	sdktest.Advance(time.Hour)
	if _, ok := sdktest.KV("last"); ok {
		t.Error("KV entry outlived its TTL")
	}

	for typ, check := range map[string]func(sdktest.Result) bool{
		"spam": sdktest.Result.Dropped,
		"keep": sdktest.Result.Unchanged,
		"boom": sdktest.Result.Failed,
	} {
		if r := sdktest.Run(sdktest.NewEvent(typ, `{}`)); !check(r) {
			t.Errorf("%s: got %v", typ, r)
		}
	}
	r = sdktest.Run(sdktest.NewEvent("boom", `{}`))
	if r.Code != abi.ResultFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "boom") || r.String() != "transform: error -1 (sdk: transform: boom)" {
		t.Errorf("boom: %v", r)
	}
	if logs := sdktest.Logs(); len(logs) == 0 || logs[len(logs)-1].Level != sdk.LevelError {
		t.Errorf("Logs: %v", logs)
	}

	sdktest.Reset()
	if logs, m, keys := sdktest.Logs(), sdktest.Metrics(), sdktest.KVKeys(); len(logs) != 0 || len(m) != 0 || len(keys) != 0 {
		t.Errorf("after Reset: logs %v, metrics %v, KV keys %v; want none", logs, m, keys)
	}
	sdktest.SetKVQuota(10)
	if r := sdktest.Run(sdktest.NewEvent("user.created", `{"name":"a long enough name"}`)); !r.Failed() || !errors.Is(r.Err, sdk.ErrQuota) {
		t.Errorf("over quota: %v", r)
	}
	if err := sdktest.SetKV("k", []byte("v"), 0); err != nil {
		t.Errorf("SetKV: %v", err)
	}
	// The info line and the failed call's error, and nothing from before
	// Reset.
	if logs := sdktest.Logs(); len(logs) != 2 || logs[0].Level != sdk.LevelInfo || logs[1].Level != sdk.LevelError {
		t.Errorf("Reset then Run: logs %v, want one info and one error line", logs)
	}
	if sdktest.Metric("renamed") != 1 {
		t.Errorf("Reset then Run: renamed = %d, want 1", sdktest.Metric("renamed"))
	}
}

func TestEvent(t *testing.T) {
	ev := sdktest.NewEvent("t", struct {
		A int `json:"a"`
	}{7})
	if string(ev.Data) != `{"a":7}` {
		t.Errorf("Data = %s", ev.Data)
	}
	if got := string(ev.Meta()); got != `{"id":"evt_test","type":"t","source":"sdktest","time":"2026-01-02T03:04:05Z"}` {
		t.Errorf("Meta = %s", got)
	}
	e := ev.SDKEvent()
	if a, _ := e.Get("a"); a != "7" || e.Type() != "t" || !e.Time().Equal(ev.Time) {
		t.Errorf("SDKEvent: %v %v", a, e.Time())
	}
	defer func() {
		if recover() == nil {
			t.Error("NewEvent with an unmarshalable value must panic")
		}
	}()
	sdktest.NewEvent("t", func() {})
}
