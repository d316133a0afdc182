package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
	"github.com/eventgw/gateway/sdk/abi"
)

// The tests in this file keep sdk/abi/README.md, the gw_v1 reference in
// WAT, true: its names and codes are abi.go's, its signature blocks are
// accepted by the real host, and its complete plugins behave as the page
// says. They live in the conformance kit's module because they need the
// host (gateway/plugintest), which the SDK module must not depend on.

// abiReadme is the page, from this directory.
var abiReadme = filepath.Join("..", "abi", "README.md")

// block is one fenced code block of the page.
type block struct {
	info []string // the words after the opening fence
	line int      // line number of the opening fence
	body string
}

func readmeBlocks(t *testing.T) (string, []block) {
	t.Helper()
	b, err := os.ReadFile(abiReadme)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &block{info: strings.Fields(strings.TrimPrefix(l, "```")), line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.body += l + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("sdk/abi/README.md:%d: unterminated code block", cur.line)
	}
	return string(b), blocks
}

// watBlock returns the one ```wat <tag> block.
func watBlock(t *testing.T, blocks []block, tag string) block {
	t.Helper()
	var found []block
	for _, b := range blocks {
		if len(b.info) >= 2 && b.info[0] == "wat" && b.info[1] == tag {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("sdk/abi/README.md has %d ```wat %s blocks, want 1", len(found), tag)
	}
	return found[0]
}

// wat2wasm assembles src with wabt's wat2wasm. A missing wat2wasm fails the
// test: the README's WAT would otherwise go unchecked.
func wat2wasm(t *testing.T, name, src string) []byte {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatalf("wat2wasm not found (apt-get install wabt): %v", err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, name+".wat"), filepath.Join(dir, name+".wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bin, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s\n--- source:\n%s", name, err, msg, src)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestABIReadme_names(t *testing.T) {
	readme, _ := readmeBlocks(t)
	var want []string
	want = append(want, fmt.Sprintf("%q", abi.Module))
	for _, name := range []string{
		abi.ExportMemory, abi.ExportInitialize, abi.ExportMarker, abi.ExportAlloc,
		abi.ExportObserve, abi.ExportFilter, abi.ExportTransform, abi.ExportKind,
	} {
		want = append(want, fmt.Sprintf("(export %q)", name))
	}
	for _, name := range []string{
		abi.FuncLog, abi.FuncConfigGet, abi.FuncKVGet, abi.FuncKVSet, abi.FuncKVDelete,
		abi.FuncKVIncr, abi.FuncMetricAdd, abi.FuncOutputSet, abi.FuncReasonSet,
	} {
		want = append(want, fmt.Sprintf("(import %q %q", abi.Module, name))
	}
	// Codes, as table rows "| `value` | `Name` |".
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"KindCodeObserver", abi.KindCodeObserver}, {"KindCodeFilter", abi.KindCodeFilter},
		{"KindCodeTransform", abi.KindCodeTransform}, {"KindCodeNone", abi.KindCodeNone},
		{"ObserveOK", abi.ObserveOK}, {"Allow", abi.Allow}, {"Flag", abi.Flag}, {"Deny", abi.Deny},
		{"Unchanged", abi.Unchanged}, {"Replaced", abi.Replaced}, {"Drop", abi.Drop},
		{"ResultFailed", abi.ResultFailed}, {"ResultWrongKind", abi.ResultWrongKind},
		{"ResultBadInput", abi.ResultBadInput},
		{"StatusOK", abi.StatusOK}, {"StatusNotFound", abi.StatusNotFound},
		{"StatusTooLarge", abi.StatusTooLarge}, {"StatusQuota", abi.StatusQuota},
		{"StatusInvalid", abi.StatusInvalid}, {"StatusUnavailable", abi.StatusUnavailable},
		{"StatusWrongKind", abi.StatusWrongKind},
		{"LevelDebug", abi.LevelDebug}, {"LevelInfo", abi.LevelInfo},
		{"LevelWarn", abi.LevelWarn}, {"LevelError", abi.LevelError},
	} {
		want = append(want, fmt.Sprintf("| `%d` | `%s` |", c.v, c.name))
	}
	// Limits, as "`Name` = value".
	for _, l := range []struct {
		name string
		v    int
	}{
		{"MaxOutputBytes", abi.MaxOutputBytes}, {"MaxReasonBytes", abi.MaxReasonBytes},
		{"MaxLogLineBytes", abi.MaxLogLineBytes}, {"MaxKVKeyBytes", abi.MaxKVKeyBytes},
		{"MaxKVValueBytes", abi.MaxKVValueBytes}, {"MaxMetricName", abi.MaxMetricName},
	} {
		want = append(want, fmt.Sprintf("`%s` = %d", l.name, l.v))
	}
	for _, s := range want {
		if !strings.Contains(readme, s) {
			t.Errorf("sdk/abi/README.md does not contain %s", s)
		}
	}
}

// TestABIReadme_signatures assembles the ```wat imports and ```wat exports
// blocks into one module, giving each export that returns a value a body,
// and loads it under the real host, which checks every signature.
func TestABIReadme_signatures(t *testing.T) {
	_, blocks := readmeBlocks(t)
	imports := watBlock(t, blocks, "imports")
	exports := watBlock(t, blocks, "exports")

	var src strings.Builder
	src.WriteString("(module\n")
	n := 0
	for _, l := range strings.Split(imports.body, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if !strings.HasPrefix(l, fmt.Sprintf("(import %q ", abi.Module)) {
			t.Errorf("sdk/abi/README.md:%d: imports block line %q is not a %s import", imports.line, l, abi.Module)
		}
		n++
		src.WriteString(l + "\n")
	}
	if n != len(abiFuncs) {
		t.Errorf("imports block has %d lines, want one per host function (%d)", n, len(abiFuncs))
	}
	n = 0
	for _, l := range strings.Split(exports.body, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		n++
		// gw_kind answers filter, gw_alloc a buffer at 1, handlers flag.
		if strings.HasPrefix(l, "(func ") && strings.HasSuffix(l, "(result i32))") {
			l = strings.TrimSuffix(l, ")") + " (i32.const 1))"
		}
		src.WriteString(l + "\n")
	}
	if n != len(abiExports) {
		t.Errorf("exports block has %d lines, want one per export (%d)", n, len(abiExports))
	}
	src.WriteString(")\n")

	p, err := plugintest.LoadErr(t, wat2wasm(t, "signatures", src.String()), plugintest.Options{})
	if err != nil {
		t.Fatalf("the host refuses the README's signatures: %v\n--- module:\n%s", err, src.String())
	}
	if p.Kind() != abi.KindFilter {
		t.Fatalf("kind %q, want filter (gw_kind returns 1)", p.Kind())
	}
	if r := p.Run(plugintest.NewEvent("a.b", `{}`)); !r.Flagged() {
		t.Fatalf("got %v, want flag", r)
	}
}

var abiFuncs = []string{
	abi.FuncLog, abi.FuncConfigGet, abi.FuncKVGet, abi.FuncKVSet, abi.FuncKVDelete,
	abi.FuncKVIncr, abi.FuncMetricAdd, abi.FuncOutputSet, abi.FuncReasonSet,
}

var abiExports = []string{
	abi.ExportMemory, abi.ExportInitialize, abi.ExportMarker, abi.ExportAlloc,
	abi.ExportObserve, abi.ExportFilter, abi.ExportTransform, abi.ExportKind,
}

// completeChecks holds, for each ```wat complete <name> block of the page,
// the test of what the page says it does. A complete module without one
// fails TestABIReadme_completeModules.
var completeChecks = map[string]func(t *testing.T, wasm []byte){
	"deny-filter": checkDenyFilter,
}

func TestABIReadme_completeModules(t *testing.T) {
	_, blocks := readmeBlocks(t)
	seen := map[string]bool{}
	for _, b := range blocks {
		if len(b.info) < 2 || b.info[0] != "wat" || b.info[1] != "complete" {
			continue
		}
		if len(b.info) != 3 {
			t.Errorf("sdk/abi/README.md:%d: want ```wat complete <name>", b.line)
			continue
		}
		name := b.info[2]
		check, ok := completeChecks[name]
		if !ok {
			t.Errorf("sdk/abi/README.md:%d: complete module %q has no test in completeChecks", b.line, name)
			continue
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) { check(t, wat2wasm(t, name, b.body)) })
	}
	for name := range completeChecks {
		if !seen[name] {
			t.Errorf("sdk/abi/README.md has no ```wat complete %s block", name)
		}
	}
}

func checkDenyFilter(t *testing.T, wasm []byte) {
	small := plugintest.NewEvent("payment.created", `{"amount":5}`)
	// 300 KB of data makes gw_alloc grow memory past its first page.
	big := plugintest.NewEvent("payment.created", `{"blob":"`+strings.Repeat("x", 300<<10)+`"}`)
	for _, tc := range []struct {
		name   string
		config map[string]string
		deny   bool
	}{
		{"deny=yes", map[string]string{"deny": "yes"}, true},
		{"deny=no", map[string]string{"deny": "no"}, false},
		{"no config", nil, false},
		{"deny=YES", map[string]string{"deny": "YES"}, false},
		{"deny=ye", map[string]string{"deny": "ye"}, false},
		{"longer than the buffer", map[string]string{"deny": "yes, longer than 8 bytes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plugintest.Load(t, wasm, plugintest.Options{Config: tc.config})
			if p.Kind() != abi.KindFilter {
				t.Fatalf("kind %q, want filter", p.Kind())
			}
			for _, ev := range []plugintest.Event{small, big, small} {
				r := p.Run(ev)
				switch {
				case tc.deny && (!r.Denied() || r.Reason != "denied by config"):
					t.Fatalf("got %v, want deny (denied by config)", r)
				case !tc.deny && (!r.Allowed() || r.Flagged()):
					t.Fatalf("got %v, want allow", r)
				}
			}
		})
	}
}

// TestABIReadme_envRefused checks the refusal the page quotes for an import
// from "env" (AssemblyScript's abort) against the host's.
func TestABIReadme_envRefused(t *testing.T) {
	readme, _ := readmeBlocks(t)
	const msg = `imports "abort" from module "env"; only "gw_v1" and "wasi_snapshot_preview1" are provided`
	if !strings.Contains(readme, "`"+msg+"`") {
		t.Fatalf("sdk/abi/README.md does not quote %s", msg)
	}
	wasm := wat2wasm(t, "env", `(module
  (import "env" "abort" (func (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "gw_abi_v1"))
  (func (export "gw_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "gw_filter") (param i32 i32 i32 i32) (result i32) (i32.const 0)))`)
	_, err := plugintest.LoadErr(t, wasm, plugintest.Options{})
	if err == nil || !strings.Contains(err.Error(), msg) {
		t.Fatalf("load error %v, want one containing %s", err, msg)
	}
}
