package wasmhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// # Why rewrite every module to add an entry guard?
//
// wazero's deadline guard (WithCloseOnContextDone) is a check that its
// compiler puts at every loop header, and nowhere else. A guest that never
// loops but calls a lot, such as a naive recursive fib, never reaches a
// check and runs on past its deadline: a 50 ms limit took 809 ms in the
// issue-10 probe, and fib(60) would take years. So before compiling, the
// host rewrites the module (instrumentEntries):
//
//   - it adds one mutable i32 global, the call counter, after the module's
//     own globals, so no existing global index moves;
//   - at the entry of every function body it adds
//
//     global.get $n; i32.const 1; i32.add; global.set $n
//     global.get $n; i32.const 1023; i32.and; i32.eqz
//     if; loop; end; end
//
//     so one call in 1024 enters an empty loop, whose header is where
//     wazero checks the deadline. Between two checks a guest makes at most
//     1024 calls or one loop iteration, however it is written.
//
// The cost is the counter increment per call and one check per 1024 calls;
// BENCHMARKS.md ("The entry guard") has the measurements. Custom sections that
// hold code offsets (".debug_*" DWARF, source maps, linker relocations) are
// dropped, since the added bytes make them lie; the "name" section stays
// valid (function and local indices do not change) and is kept, so stack
// traces still name the guest's functions. The rewriter reads only section
// and function-body headers, never instructions; FuzzInstrumentEntries
// checks that every module wazero accepts still compiles after the rewrite.
//
// The stack is bounded by wazero itself: unbounded recursion traps with a
// stack overflow, a crash (TestHostile_deepRecursion).

// guardEvery is the number of calls between two deadline checks; a power of
// two, so the test is one i32.and.
const guardEvery = 1024

// Section ids of the WebAssembly binary format.
const (
	secCustom    = 0
	secImport    = 2
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

// errMalformed is a module the rewriter cannot read.
var errMalformed = errors.New("malformed module")

// instrumentEntries returns bin with the entry guard added to every
// function (see above). It reads section and body headers only; a module it
// cannot read is an error, never returned unguarded.
func instrumentEntries(bin []byte) ([]byte, error) {
	if len(bin) < 8 || !bytes.HasPrefix(bin, wasmMagic) {
		return nil, fmt.Errorf("%w: no wasm magic", errMalformed)
	}
	type section struct {
		id      byte
		payload []byte
	}
	var secs []section
	r := reader{b: bin, off: 8}
	importedGlobals, definedGlobals := uint64(0), uint64(0)
	hasGlobal := false
	for !r.done() {
		id := r.byte()
		size := r.u32()
		payload := r.take(uint64(size))
		if r.err != nil {
			return nil, r.err
		}
		switch id {
		case secCustom:
			name, err := customName(payload)
			if err != nil {
				return nil, err
			}
			if codeOffsetSection(name) {
				continue // invalidated by the rewrite
			}
		case secImport:
			n, err := countImportedGlobals(payload)
			if err != nil {
				return nil, err
			}
			importedGlobals = n
		case secGlobal:
			pr := reader{b: payload}
			definedGlobals = uint64(pr.u32())
			if pr.err != nil {
				return nil, pr.err
			}
			hasGlobal = true
		}
		secs = append(secs, section{id, payload})
	}
	counter := importedGlobals + definedGlobals
	if counter >= 1<<32-1 {
		return nil, fmt.Errorf("%w: too many globals", errMalformed)
	}
	newGlobal := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b} // mut i32 = i32.const 0
	out := make([]byte, 0, len(bin)+len(bin)/8+64)
	out = append(out, bin[:8]...)
	write := func(id byte, payload []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(payload)))
		out = append(out, payload...)
	}
	placed := hasGlobal
	for _, s := range secs {
		if !placed && afterGlobals(s.id) {
			write(secGlobal, append([]byte{1}, newGlobal...))
			placed = true
		}
		switch s.id {
		case secGlobal:
			p := binary.AppendUvarint(nil, definedGlobals+1)
			pr := reader{b: s.payload}
			pr.u32()
			p = append(p, s.payload[pr.off:]...)
			write(secGlobal, append(p, newGlobal...))
		case secCode:
			p, err := guardBodies(s.payload, uint32(counter))
			if err != nil {
				return nil, err
			}
			write(secCode, p)
		default:
			write(s.id, s.payload)
		}
	}
	if !placed {
		write(secGlobal, append([]byte{1}, newGlobal...))
	}
	return out, nil
}

// afterGlobals reports whether a section of id comes after the global
// section in the binary's section order.
func afterGlobals(id byte) bool {
	switch id {
	case secExport, secStart, secElement, secDataCount, secCode, secData:
		return true
	}
	return false
}

// codeOffsetSection reports whether a custom section holds code offsets
// that added instructions would invalidate.
func codeOffsetSection(name string) bool {
	return strings.HasPrefix(name, ".debug_") || strings.HasPrefix(name, "reloc.") ||
		name == "sourceMappingURL" || name == "external_debug_info" || name == "linking"
}

func customName(payload []byte) (string, error) {
	r := reader{b: payload}
	n := r.u32()
	name := r.take(uint64(n))
	return string(name), r.err
}

// countImportedGlobals counts the global imports of an import section.
func countImportedGlobals(payload []byte) (uint64, error) {
	r := reader{b: payload}
	n := r.u32()
	var globals uint64
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.take(uint64(r.u32())) // module
		r.take(uint64(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
		case 0x01: // table: reftype, limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: valtype, mutability
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			r.fail("import kind %#x", kind)
		}
	}
	return globals, r.err
}

// guardBodies adds the entry guard, on global counter, to every body of a
// code section.
func guardBodies(payload []byte, counter uint32) ([]byte, error) {
	g := binary.AppendUvarint(nil, uint64(counter))
	var guard []byte
	guard = append(append(append(guard, 0x23), g...), 0x41, 0x01, 0x6a) // global.get; i32.const 1; i32.add
	guard = append(append(guard, 0x24), g...)                           // global.set
	guard = append(append(guard, 0x23), g...)                           // global.get
	guard = append(guard, 0x41)
	guard = appendSleb32(guard, guardEvery-1)     // i32.const 1023
	guard = append(guard, 0x71, 0x45, 0x04, 0x40) // i32.and; i32.eqz; if
	guard = append(guard, 0x03, 0x40, 0x0b, 0x0b) // loop; end; end

	r := reader{b: payload}
	n := r.u32()
	out := binary.AppendUvarint(make([]byte, 0, len(payload)+int(n)*len(guard)+8), uint64(n))
	for i := uint32(0); i < n && r.err == nil; i++ {
		body := r.take(uint64(r.u32()))
		if r.err != nil {
			break
		}
		br := reader{b: body}
		locals := br.u32()
		for j := uint32(0); j < locals && br.err == nil; j++ {
			br.u32()  // count
			br.byte() // type
		}
		if br.err != nil {
			return nil, br.err
		}
		out = binary.AppendUvarint(out, uint64(len(body)+len(guard)))
		out = append(out, body[:br.off]...)
		out = append(out, guard...)
		out = append(out, body[br.off:]...)
	}
	if r.err == nil && !r.done() {
		r.fail("%d bytes after the last function body", len(r.b)-r.off)
	}
	return out, r.err
}

func appendSleb32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// reader reads a wasm binary; the first error sticks and later reads
// return zero values.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) done() bool { return r.err != nil || r.off >= len(r.b) }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", errMalformed, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

// u64 reads an unsigned LEB128 of at most 10 bytes.
func (r *reader) u64() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad LEB128")
		return 0
	}
	r.off += n
	return v
}

func (r *reader) u32() uint32 {
	v := r.u64()
	if v > 1<<32-1 {
		r.fail("LEB128 %d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("%d bytes past the end", n)
		return nil
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

// limits reads table or memory limits: flags, min and, with bit 0, max.
func (r *reader) limits() {
	flags := r.byte()
	if flags > 0x07 {
		r.fail("limits flags %#x", flags)
		return
	}
	r.u64()
	if flags&1 != 0 {
		r.u64()
	}
}
