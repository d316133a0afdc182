// Package cplugin is the c-plugin example's test: filter.c, a gateway
// filter written in C with sdk/c/gw.h, built with clang and run by a real
// gateway.
package cplugin

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// clangHint is how to install the C toolchain (sdk/c/README.md); .ci/run
// installs it. A missing toolchain fails the test: it is never skipped.
const clangHint = "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32"

// buildFilter compiles filter.c with the command README.md documents
// (plus -Wall -Wextra -Werror) and returns the absolute path of the module.
func buildFilter(t *testing.T) string {
	t.Helper()
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Fatalf("C toolchain missing: clang not found on PATH: install it (%s); .ci/run does", clangHint)
	}
	sdk, err := filepath.Abs(filepath.Join("..", "..", "sdk", "c"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "filter.wasm")
	cmd := exec.Command(clang, "--target=wasm32-wasi", "-mexec-model=reactor", "-O2",
		"-Wall", "-Wextra", "-Werror", "-I", sdk, "-o", out, "filter.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build filter.c: %v\n%s\n(is the C toolchain complete? install: %s)", err, b, clangHint)
	}
	return out
}

// verdict is one plugin's decision, as GET /v1/events/{id} shows it.
type verdict struct {
	Plugin  string `json:"plugin"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// record is an event as GET /v1/events/{id} shows it.
type record struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Verdicts []verdict `json:"verdicts"`
}

// TestCPlugin builds filter.c, runs the example's gateway.yaml with the
// built module, publishes a blocked, a large and an ordinary order and
// checks each status and verdict.
func TestCPlugin(t *testing.T) {
	wasm := buildFilter(t)
	gw := gwtest.StartFile(t, "gateway.yaml", func(yaml string) string {
		if !strings.Contains(yaml, "path: filter.wasm") {
			t.Fatalf("gateway.yaml does not load path: filter.wasm:\n%s", yaml)
		}
		return strings.Replace(yaml, "path: filter.wasm", "path: "+wasm, 1)
	})

	cases := []struct {
		name, data              string
		status, outcome, reason string
	}{
		{"blocked country", `{"country":"IR","amount":20}`, "denied", "deny", "country IR is blocked"},
		{"large amount", `{"country":"FR","amount":2500}`, "dispatched", "flag", "amount 2500 is above flag_above 1000"},
		{"ordinary", `{"country":"FR","amount":25}`, "dispatched", "allow", ""},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		var r record
		gwtest.Do(t, "POST", gw.URL+"/v1/events", `{"type":"order.created","data":`+c.data+`}`, 202, &r)
		if r.ID == "" {
			t.Fatalf("%s: the publish answer has no id", c.name)
		}
		ids[i] = r.ID
	}
	for i, c := range cases {
		var r record
		gwtest.Eventually(t, "a verdict on "+c.name, func() bool {
			r = record{}
			gwtest.Do(t, "GET", gw.URL+"/v1/events/"+ids[i], "", 200, &r)
			return r.Status != "pending"
		})
		if r.Status != c.status || len(r.Verdicts) != 1 {
			t.Errorf("%s: want status %s with one verdict, got %s with %+v", c.name, c.status, r.Status, r.Verdicts)
			continue
		}
		v := r.Verdicts[0]
		if v.Plugin != "c-filter" || v.Outcome != c.outcome || v.Reason != c.reason || v.Error != "" {
			t.Errorf("%s: want c-filter: %s (%q), got %+v", c.name, c.outcome, c.reason, v)
		}
	}
}
