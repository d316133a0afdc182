package wasmhost

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/eventgw/gateway/sdk/abi"
)

// Export signatures the ABI fixes.
var (
	sigAlloc   = hostSig{[]api.ValueType{i32}, []api.ValueType{i32}}
	sigHandler = hostSig{[]api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}}
	sigKind    = hostSig{nil, []api.ValueType{i32}}
	sigInit    = hostSig{nil, nil}
)

var handlerKinds = []abi.Kind{abi.KindObserver, abi.KindFilter, abi.KindTransform}

// loadError is Load's error: every problem found, naming the plugin.
func loadError(name string, problems []string) error {
	return fmt.Errorf("plugin %q: %s", name, strings.Join(problems, "; "))
}

// validate checks a compiled module against gw_v1 and returns its handler
// kinds and whether it exports gw_kind. declared is the Spec's kind ("" to
// infer); it is checked here when the exports settle the kind.
func validate(cm wazero.CompiledModule, e *engine, declared abi.Kind, memoryPages uint32) (kinds []abi.Kind, hasKind bool, problems []string) {
	exports := cm.ExportedFunctions()
	mems := cm.ExportedMemories()
	if m, ok := mems[abi.ExportMemory]; !ok {
		problems = append(problems, fmt.Sprintf("missing export %q", abi.ExportMemory))
	} else if m.Min() > memoryPages {
		problems = append(problems, fmt.Sprintf("memory needs %d pages at start; the limit is %d", m.Min(), memoryPages))
	}
	if len(cm.ImportedMemories()) > 0 {
		problems = append(problems, "imports a memory; a plugin must define and export its own")
	}
	if _, ok := exports[abi.ExportMarker]; !ok {
		problems = append(problems, fmt.Sprintf("missing export %q (not a gw_v1 plugin)", abi.ExportMarker))
	}
	check := func(name string, want hostSig, required bool) bool {
		def, ok := exports[name]
		if !ok {
			if required {
				problems = append(problems, fmt.Sprintf("missing export %q", name))
			}
			return false
		}
		if !sameSig(def, want) {
			problems = append(problems, fmt.Sprintf("export %q has signature %s, want %s", name, sigOf(def), want))
		}
		return true
	}
	check(abi.ExportAlloc, sigAlloc, true)
	check(abi.ExportInitialize, sigInit, false)
	hasKind = check(abi.ExportKind, sigKind, false)
	for _, k := range handlerKinds {
		if check(k.Export(), sigHandler, false) {
			kinds = append(kinds, k)
		}
	}
	switch {
	case len(kinds) == 0:
		problems = append(problems, fmt.Sprintf("exports no handler (%s, %s or %s)", abi.ExportObserve, abi.ExportFilter, abi.ExportTransform))
	case len(kinds) > 1 && !hasKind:
		problems = append(problems, fmt.Sprintf("exports %d handlers but no %q to choose one", len(kinds), abi.ExportKind))
	case declared != "" && !slices.Contains(kinds, declared):
		problems = append(problems, fmt.Sprintf("declared kind %q but exports no %q (it exports %s)", declared, declared.Export(), exportList(kinds)))
	}
	problems = append(problems, checkImports(cm, e)...)
	return kinds, hasKind, problems
}

func checkImports(cm wazero.CompiledModule, e *engine) (problems []string) {
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		var want hostSig
		switch mod {
		case abi.Module:
			f, ok := hostFuncs[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("imports unknown function %q from %q", name, mod))
				continue
			}
			want = f.sig
		case wasiModule:
			w, ok := e.wasi[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("imports unknown function %q from %q", name, mod))
				continue
			}
			want = hostSig{w.ParamTypes(), w.ResultTypes()}
		default:
			problems = append(problems, fmt.Sprintf("imports %q from module %q; only %q and %q are provided", name, mod, abi.Module, wasiModule))
			continue
		}
		if !sameSig(def, want) {
			problems = append(problems, fmt.Sprintf("import %q.%q has signature %s, want %s", mod, name, sigOf(def), want))
		}
	}
	return problems
}

func sameSig(def api.FunctionDefinition, want hostSig) bool {
	return slices.Equal(def.ParamTypes(), want.params) && slices.Equal(def.ResultTypes(), want.results)
}

func sigOf(def api.FunctionDefinition) hostSig {
	return hostSig{def.ParamTypes(), def.ResultTypes()}
}

// String renders a signature as "(i32, i32) -> i32".
func (s hostSig) String() string {
	names := func(ts []api.ValueType) string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = api.ValueTypeName(t)
		}
		return strings.Join(out, ", ")
	}
	r := "(" + names(s.params) + ")"
	switch len(s.results) {
	case 0:
		return r + " -> ()"
	case 1:
		return r + " -> " + names(s.results)
	}
	return r + " -> (" + names(s.results) + ")"
}

func exportList(kinds []abi.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = fmt.Sprintf("%q", k.Export())
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// kindOfCode maps a gw_kind result to a Kind.
func kindOfCode(c int32) (abi.Kind, bool) {
	switch c {
	case abi.KindCodeObserver:
		return abi.KindObserver, true
	case abi.KindCodeFilter:
		return abi.KindFilter, true
	case abi.KindCodeTransform:
		return abi.KindTransform, true
	}
	return "", false
}
