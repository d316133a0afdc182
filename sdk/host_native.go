//go:build !wasip1

package sdk

import "github.com/eventgw/gateway/sdk/internal/fakehost"

// In the native build the host functions go to fakehost.Default, and the
// registered handler is bound there so that sdk/sdktest can call it.

func init() { fakehost.SetGuest(nativeGuest{}) }

type nativeGuest struct{}

func (nativeGuest) Kind() int32 { return kindCode() }

func (nativeGuest) Handle(kind int32, meta, data []byte) (int32, error) {
	return handle(kind, meta, data)
}

func (nativeGuest) NewEvent(meta, data []byte) (any, error) {
	e := &Event{data: data}
	if err := e.parseMeta(meta); err != nil {
		return nil, err
	}
	return e, nil
}

func hostLog(level int32, msg string) { fakehost.Default.LogLine(level, msg) }

func hostConfigGet(key string, buf []byte) int32 { return fakehost.Default.ConfigGet(key, buf) }

func hostKVGet(key string, buf []byte) int32 { return fakehost.Default.KVGet(key, buf) }

func hostKVSet(key string, val []byte, ttlMs int64) int32 {
	return fakehost.Default.KVSet(key, val, ttlMs)
}

func hostKVDelete(key string) int32 { return fakehost.Default.KVDelete(key) }

func hostKVIncr(key string, delta, ttlMs int64) (int64, int32) {
	return fakehost.Default.KVIncr(key, delta, ttlMs)
}

func hostMetricAdd(name string, delta int64) int32 { return fakehost.Default.MetricAdd(name, delta) }

func hostOutputSet(b []byte) int32 { return fakehost.Default.OutputSet(b) }

func hostReasonSet(reason string) int32 { return fakehost.Default.ReasonSet(reason) }
