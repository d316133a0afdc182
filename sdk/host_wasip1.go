//go:build wasip1

package sdk

import (
	"unsafe"

	"github.com/eventgw/gateway/sdk/abi"
)

// The gw_v1 host functions (see package abi). A string parameter is passed
// as (ptr, len i32).

//go:wasmimport gw_v1 log
func gwLog(level int32, msg string)

//go:wasmimport gw_v1 config_get
func gwConfigGet(key string, buf unsafe.Pointer, bufCap int32) int32

//go:wasmimport gw_v1 kv_get
func gwKVGet(key string, buf unsafe.Pointer, bufCap int32) int32

//go:wasmimport gw_v1 kv_set
func gwKVSet(key string, val unsafe.Pointer, valLen int32, ttlMs int64) int32

//go:wasmimport gw_v1 kv_delete
func gwKVDelete(key string) int32

//go:wasmimport gw_v1 kv_incr
func gwKVIncr(key string, delta, ttlMs int64, out *int64) int32

//go:wasmimport gw_v1 metric_add
func gwMetricAdd(name string, delta int64) int32

//go:wasmimport gw_v1 output_set
func gwOutputSet(ptr unsafe.Pointer, n int32) int32

//go:wasmimport gw_v1 reason_set
func gwReasonSet(reason string) int32

// Lengths over the i32 range can't cross the boundary; the host would
// refuse them anyway.
const maxLen = 1<<31 - 1

func hostLog(level int32, msg string) {
	if len(msg) > abi.MaxLogLineBytes {
		msg = truncate(msg, abi.MaxLogLineBytes)
	}
	gwLog(level, msg)
}

func hostConfigGet(key string, buf []byte) int32 {
	if len(key) > maxLen {
		return abi.StatusInvalid
	}
	return gwConfigGet(key, unsafe.Pointer(unsafe.SliceData(buf)), int32(len(buf)))
}

func hostKVGet(key string, buf []byte) int32 {
	if len(key) > maxLen {
		return abi.StatusInvalid
	}
	return gwKVGet(key, unsafe.Pointer(unsafe.SliceData(buf)), int32(len(buf)))
}

func hostKVSet(key string, val []byte, ttlMs int64) int32 {
	if len(key) > maxLen || len(val) > maxLen {
		return abi.StatusTooLarge
	}
	return gwKVSet(key, unsafe.Pointer(unsafe.SliceData(val)), int32(len(val)), ttlMs)
}

func hostKVDelete(key string) int32 {
	if len(key) > maxLen {
		return abi.StatusInvalid
	}
	return gwKVDelete(key)
}

func hostKVIncr(key string, delta, ttlMs int64) (int64, int32) {
	if len(key) > maxLen {
		return 0, abi.StatusInvalid
	}
	var out int64
	st := gwKVIncr(key, delta, ttlMs, &out)
	return out, st
}

func hostMetricAdd(name string, delta int64) int32 {
	if len(name) > maxLen {
		return abi.StatusInvalid
	}
	return gwMetricAdd(name, delta)
}

func hostOutputSet(b []byte) int32 {
	if len(b) > maxLen {
		return abi.StatusTooLarge
	}
	return gwOutputSet(unsafe.Pointer(unsafe.SliceData(b)), int32(len(b)))
}

func hostReasonSet(reason string) int32 {
	if len(reason) > maxLen {
		return abi.StatusTooLarge
	}
	return gwReasonSet(reason)
}
