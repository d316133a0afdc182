//go:build !wasip1

package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk/abi"
)

// testPlugin uses every service, so the module imports every host function.
const testPlugin = `package main

import (
	"time"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() {
	limit, _ := sdk.Config("limit")
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		email, _ := e.Get("customer.email")
		n := sdk.KVIncr("seen:"+email, 1, time.Minute)
		v, _ := sdk.KVGet("x")
		_ = sdk.KVSet("x", v, 0)
		_ = sdk.KVDelete("x")
		sdk.MetricAdd("seen", 1)
		sdk.Info(e.Type())
		if n > 3 || limit == "0" {
			return sdk.Deny("too many")
		}
		return sdk.Allow()
	})
}
`

// TestBuildWasip1 builds a plugin with the standard toolchain, as a plugin
// author does, and checks the module's exports and imports against package
// abi.
func TestBuildWasip1(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Wasm module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found on PATH: %v", err)
	}
	root, err := filepath.Abs(".") // the SDK module, standard library only
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := fmt.Sprintf("module example.test/plugin\n\ngo 1.26\n\nrequire github.com/eventgw/gateway/sdk v0.0.0\n\nreplace github.com/eventgw/gateway/sdk => %s\n", filepath.ToSlash(root))
	write(t, filepath.Join(dir, "go.mod"), gomod)
	write(t, filepath.Join(dir, "main.go"), testPlugin)

	out := filepath.Join(dir, "plugin.wasm")
	cmd := exec.Command(gobin, "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOFLAGS=-mod=mod",
		"GOPROXY=off", "GOWORK=off", "GOSUMDB=off", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// ModuleFiles (source.go) is for the gateway binary, never in a plugin.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wasm, readme[:min(len(readme), 200)]) {
		t.Error("the module embeds the SDK's source (source.go built for wasip1)")
	}
	m, err := parseWasm(wasm)
	if err != nil {
		t.Fatal(err)
	}

	i32, i64 := byte(0x7f), byte(0x7e)
	handler := sig{params: []byte{i32, i32, i32, i32}, results: []byte{i32}}
	wantExports := map[string]sig{
		abi.ExportInitialize: {},
		abi.ExportMarker:     {},
		abi.ExportAlloc:      {params: []byte{i32}, results: []byte{i32}},
		abi.ExportKind:       {results: []byte{i32}},
		abi.ExportObserve:    handler,
		abi.ExportFilter:     handler,
		abi.ExportTransform:  handler,
	}
	for name, want := range wantExports {
		got, ok := m.exports[name]
		if !ok {
			t.Errorf("export %s missing", name)
			continue
		}
		if got.String() != want.String() {
			t.Errorf("export %s: %v, want %v", name, got, want)
		}
	}
	if !m.memory {
		t.Errorf("export %s missing", abi.ExportMemory)
	}

	wantImports := map[string]sig{
		abi.FuncLog:       {params: []byte{i32, i32, i32}},
		abi.FuncConfigGet: {params: []byte{i32, i32, i32, i32}, results: []byte{i32}},
		abi.FuncKVGet:     {params: []byte{i32, i32, i32, i32}, results: []byte{i32}},
		abi.FuncKVSet:     {params: []byte{i32, i32, i32, i32, i64}, results: []byte{i32}},
		abi.FuncKVDelete:  {params: []byte{i32, i32}, results: []byte{i32}},
		abi.FuncKVIncr:    {params: []byte{i32, i32, i64, i64, i32}, results: []byte{i32}},
		abi.FuncMetricAdd: {params: []byte{i32, i32, i64}, results: []byte{i32}},
		abi.FuncOutputSet: {params: []byte{i32, i32}, results: []byte{i32}},
		abi.FuncReasonSet: {params: []byte{i32, i32}, results: []byte{i32}},
	}
	for name, want := range wantImports {
		got, ok := m.imports[abi.Module+"."+name]
		if !ok {
			t.Errorf("import %s.%s missing", abi.Module, name)
			continue
		}
		if got.String() != want.String() {
			t.Errorf("import %s.%s: %v, want %v", abi.Module, name, got, want)
		}
	}
	for name := range m.imports {
		mod, _, _ := strings.Cut(name, ".")
		if mod != abi.Module && mod != "wasi_snapshot_preview1" {
			t.Errorf("import %s from an unexpected module", name)
		}
	}
	t.Logf("plugin.wasm: %d KiB, %d imports, %d exports", len(wasm)>>10, len(m.imports), len(m.exports))
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sig is a function type: value type bytes (0x7f i32, 0x7e i64, ...).
type sig struct{ params, results []byte }

func (s sig) String() string { return fmt.Sprintf("%x->%x", s.params, s.results) }

type wasmModule struct {
	imports map[string]sig // "module.name" of imported functions
	exports map[string]sig // exported functions
	memory  bool           // exports "memory"
}

// parseWasm reads the type, import, function and export sections of a
// binary module: just enough to check an ABI.
func parseWasm(b []byte) (*wasmModule, error) {
	if len(b) < 8 || !bytes.Equal(b[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errors.New("not a wasm 1 module")
	}
	m := &wasmModule{imports: map[string]sig{}, exports: map[string]sig{}}
	var types []sig
	var funcs []sig // imported functions first, then defined ones
	r := &wasmReader{b: b, i: 8}
	for r.err == nil && r.i < len(r.b) {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || size > len(r.b)-r.i {
			return nil, errors.New("truncated section")
		}
		sec := &wasmReader{b: r.b[:r.i+size], i: r.i}
		r.i += size
		switch id {
		case 1: // type
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				if sec.byte() != 0x60 {
					return nil, errors.New("bad func type")
				}
				types = append(types, sig{params: sec.vec(), results: sec.vec()})
			}
		case 2: // import
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				mod, name := sec.name(), sec.name()
				switch sec.byte() {
				case 0:
					t := sec.u32()
					if int(t) >= len(types) {
						return nil, errors.New("bad type index")
					}
					m.imports[mod+"."+name] = types[t]
					funcs = append(funcs, types[t])
				case 1: // table: reftype, limits
					sec.byte()
					sec.limits()
				case 2:
					sec.limits()
				case 3: // global: valtype, mut
					sec.byte()
					sec.byte()
				default:
					return nil, errors.New("bad import kind")
				}
			}
		case 3: // function
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				t := sec.u32()
				if int(t) >= len(types) {
					return nil, errors.New("bad type index")
				}
				funcs = append(funcs, types[t])
			}
		case 7: // export
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				name, kind, idx := sec.name(), sec.byte(), sec.u32()
				switch kind {
				case 0:
					if int(idx) >= len(funcs) {
						return nil, errors.New("bad func index")
					}
					m.exports[name] = funcs[idx]
				case 2:
					m.memory = m.memory || name == abi.ExportMemory
				}
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
	}
	return m, r.err
}

type wasmReader struct {
	b   []byte
	i   int
	err error
}

func (r *wasmReader) byte() byte {
	if r.i >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.err = errors.New("bad leb128")
	return 0
}

func (r *wasmReader) bytes(n int) []byte {
	if n > len(r.b)-r.i {
		r.err = errors.New("unexpected end")
		return nil
	}
	r.i += n
	return r.b[r.i-n : r.i]
}

func (r *wasmReader) name() string { return string(r.bytes(int(r.u32()))) }
func (r *wasmReader) vec() []byte  { return r.bytes(int(r.u32())) }

func (r *wasmReader) limits() {
	if r.byte()&1 != 0 {
		r.u32()
	}
	r.u32()
}

func TestParseWasm_rejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x01\x00\x00\x00\x07\xff"), []byte("\x00asm\x01\x00\x00\x00\x07\x02\x05a")} {
		if _, err := parseWasm(b); err == nil {
			t.Errorf("%q: no error", b)
		}
	}
}
