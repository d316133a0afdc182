package fakehost

import (
	"sync"
	"testing"

	"github.com/eventgw/gateway/sdk/abi"
)

// echoGuest is a filter that denies with the data as the reason.
type echoGuest struct{ h *Host }

func (echoGuest) Kind() int32 { return abi.KindCodeFilter }

func (g echoGuest) Handle(kind int32, meta, data []byte) (int32, error) {
	g.h.KVIncr("calls", 1, 0)
	g.h.LogLine(abi.LevelInfo, string(data))
	if st := g.h.ReasonSet(string(data)); st != abi.StatusOK {
		return abi.ResultFailed, nil
	}
	return abi.Deny, nil
}

func (echoGuest) NewEvent(meta, data []byte) (any, error) { return nil, nil }

func TestHost_Call_hammer(t *testing.T) {
	h := New()
	g := echoGuest{h}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				data := []byte{byte('a' + i), byte('0' + j%10)}
				r := h.Call(g, abi.KindCodeFilter, nil, data)
				if r.Code != abi.Deny || r.Reason != string(data) || len(r.Logs) != 1 || r.Logs[0].Msg != string(data) {
					t.Errorf("call %d/%d: %+v", i, j, r)
					return
				}
				h.MetricAdd("m", 1)
			}
		})
	}
	wg.Wait()
	if n, _ := h.KVIncr("calls", 0, 0); n != 1600 {
		t.Errorf("calls = %d", n)
	}
	if h.Metrics()["m"] != 1600 || len(h.Logs()) != 1600 {
		t.Errorf("metrics %v, %d logs", h.Metrics(), len(h.Logs()))
	}
}

func TestHost_outputAndReasonByKind(t *testing.T) {
	h := New()
	var st [2]int32
	g := guestFunc(func(kind int32) {
		st = [2]int32{h.OutputSet([]byte(`{}`)), h.ReasonSet("r")}
	})
	h.Call(g, abi.KindCodeFilter, nil, nil)
	if st != [2]int32{abi.StatusWrongKind, abi.StatusOK} {
		t.Errorf("filter: %v", st)
	}
	h.Call(g, abi.KindCodeTransform, nil, nil)
	if st != [2]int32{abi.StatusOK, abi.StatusWrongKind} {
		t.Errorf("transform: %v", st)
	}
	h.Call(g, abi.KindCodeObserver, nil, nil)
	if st != [2]int32{abi.StatusWrongKind, abi.StatusWrongKind} {
		t.Errorf("observer: %v", st)
	}
	if h.ReasonSet(string(make([]byte, abi.MaxReasonBytes+1))) != abi.StatusTooLarge ||
		h.OutputSet(make([]byte, abi.MaxOutputBytes+1)) != abi.StatusTooLarge {
		t.Error("limits")
	}
}

type guestFunc func(kind int32)

func (guestFunc) Kind() int32 { return abi.KindCodeFilter }

func (f guestFunc) Handle(kind int32, meta, data []byte) (int32, error) { f(kind); return 0, nil }

func (guestFunc) NewEvent(meta, data []byte) (any, error) { return nil, nil }
