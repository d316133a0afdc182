package wasmhost

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// FuzzInstrumentEntries checks the entry guard's rewriter on any bytes: a
// module wazero accepts must still be accepted after the rewrite, with
// the same exports; bytes the rewriter refuses are never returned. The
// seeds are every fixture in testdata. The whole wasmhost suite runs on
// rewritten modules, which checks that they behave the same.
func FuzzInstrumentEntries(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.wat"))
	require.NoError(f, err)
	for _, n := range names {
		f.Add(wat(f, strings.TrimSuffix(filepath.Base(n), ".wat")))
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(api.CoreFeaturesV2))
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, bin []byte) {
		guarded, err := instrumentEntries(bin)
		orig, oerr := rt.CompileModule(ctx, bin)
		if oerr != nil {
			return // wazero refuses it: the host reports wazero's error
		}
		defer orig.Close(ctx)
		if err != nil {
			t.Fatalf("wazero accepts the module, the rewriter refuses it: %v", err)
		}
		cm, err := rt.CompileModule(ctx, guarded)
		if err != nil {
			t.Fatalf("the rewritten module does not compile: %v", err)
		}
		defer cm.Close(ctx)
		if a, b := len(orig.ExportedFunctions()), len(cm.ExportedFunctions()); a != b {
			t.Fatalf("exported functions: %d before the rewrite, %d after", a, b)
		}
		if a, b := len(orig.ImportedFunctions()), len(cm.ImportedFunctions()); a != b {
			t.Fatalf("imported functions: %d before the rewrite, %d after", a, b)
		}
	})
}

// TestInstrumentEntries_sections checks the rewrite of a module with no
// global section (one is added before the exports), one with globals of
// its own (the counter comes after them), and that DWARF sections are
// dropped while the name section stays.
func TestInstrumentEntries_sections(t *testing.T) {
	for _, name := range []string{"allow", "everything", "fib"} {
		bin := wat(t, name)
		// Append a DWARF and a name-like custom section.
		withCustom := append(bytes.Clone(bin), customSection(".debug_info", "x")...)
		withCustom = append(withCustom, customSection("keep", "y")...)
		out, err := instrumentEntries(withCustom)
		require.NoError(t, err, name)
		if bytes.Contains(out, []byte(".debug_info")) {
			t.Errorf("%s: the DWARF section is still there", name)
		}
		if !bytes.Contains(out, []byte("keep")) {
			t.Errorf("%s: the custom section was dropped", name)
		}
		load(t, newRuntime(t, Options{}), Spec{Name: name, Wasm: withCustom})
	}
	if _, err := instrumentEntries([]byte("not wasm")); err == nil {
		t.Fatal("want an error for bytes without the wasm magic")
	}
}

func customSection(name, payload string) []byte {
	p := append([]byte{byte(len(name))}, name...)
	p = append(p, payload...)
	return append([]byte{0, byte(len(p))}, p...)
}
