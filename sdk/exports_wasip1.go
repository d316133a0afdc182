//go:build wasip1

package sdk

import (
	"unsafe"

	"github.com/eventgw/gateway/sdk/abi"
)

// allocated is the buffer the latest gw_alloc returned. Holding it here
// keeps it reachable while the host writes into it, until the handler call
// that reads it; the next gw_alloc lets the garbage collector have it (or
// the Event that still refers to it).
var allocated []byte

//go:wasmexport gw_abi_v1
func gwABIv1() {}

//go:wasmexport gw_kind
func gwKind() int32 { return kindCode() }

//go:wasmexport gw_alloc
func gwAlloc(size int32) int32 {
	allocated = nil
	if size < 0 {
		return 0
	}
	allocated = make([]byte, size)
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(allocated))))
}

//go:wasmexport gw_observe
func gwObserve(metaPtr, metaLen, dataPtr, dataLen int32) int32 {
	return call(abi.KindCodeObserver, metaPtr, metaLen, dataPtr, dataLen)
}

//go:wasmexport gw_filter
func gwFilter(metaPtr, metaLen, dataPtr, dataLen int32) int32 {
	return call(abi.KindCodeFilter, metaPtr, metaLen, dataPtr, dataLen)
}

//go:wasmexport gw_transform
func gwTransform(metaPtr, metaLen, dataPtr, dataLen int32) int32 {
	return call(abi.KindCodeTransform, metaPtr, metaLen, dataPtr, dataLen)
}

func call(kind, metaPtr, metaLen, dataPtr, dataLen int32) int32 {
	meta, ok1 := inAllocated(metaPtr, metaLen)
	data, ok2 := inAllocated(dataPtr, dataLen)
	if !ok1 || !ok2 {
		hostLog(abi.LevelError, "sdk: the handler's pointers are not inside the buffer of the latest gw_alloc")
		return abi.ResultBadInput
	}
	code, _ := handle(kind, meta, data)
	return code
}

// inAllocated returns the n bytes at ptr, which must lie in allocated.
func inAllocated(ptr, n int32) ([]byte, bool) {
	if n < 0 {
		return nil, false
	}
	if n == 0 {
		return []byte{}, true
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(allocated)))
	p := uintptr(uint32(ptr))
	if p < base || p-base > uintptr(len(allocated)) || uintptr(n) > uintptr(len(allocated))-(p-base) {
		return nil, false
	}
	off := int(p - base)
	return allocated[off : off+int(n) : off+int(n)], true
}
