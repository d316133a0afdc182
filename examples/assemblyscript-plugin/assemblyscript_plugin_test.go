// Package asplugin is the assemblyscript-plugin example's test: a gateway
// filter written in AssemblyScript with eventgw-sdk, built with the
// project's own asc and run by a real gateway.
package asplugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
	"github.com/eventgw/gateway/gateway/plugintest"
)

// TestAssemblyScriptPlugin builds assembly/index.ts as `gateway plugin
// build` does (node_modules/.bin/asc with asconfig.json; .ci/run installs
// it with npm ci, and the build runs npm ci itself when it is missing),
// runs the example's gateway.yaml with the built module, and checks the
// same three orders as the c-plugin example: the two filters behave alike.
func TestAssemblyScriptPlugin(t *testing.T) {
	wasm := filepath.Join(t.TempDir(), "filter.wasm")
	if err := os.WriteFile(wasm, plugintest.Build(t, "."), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := gwtest.StartFile(t, "gateway.yaml", func(yaml string) string {
		if !strings.Contains(yaml, "path: filter.wasm") {
			t.Fatalf("gateway.yaml does not load path: filter.wasm:\n%s", yaml)
		}
		return strings.Replace(yaml, "path: filter.wasm", "path: "+wasm, 1)
	})
	gwtest.CheckOrderFilter(t, gw, "as-filter")
}

// TestAssemblyScriptPlugin_underTheHost runs the module once per case under
// the real host with gateway/plugintest, with no gateway around it.
func TestAssemblyScriptPlugin_underTheHost(t *testing.T) {
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{
		Config: map[string]string{"blocked": "KP, IR", "flag_above": "1000"},
	})
	if r := p.Run(plugintest.NewEvent("order.created", `{"country": "KP"}`)); !r.Denied() || r.Reason != "country KP is blocked" {
		t.Errorf("blocked country: %v", r)
	}
	if r := p.Run(plugintest.NewEvent("order.created", `{"amount": 1000.5, "country": "FR"}`)); !r.Flagged() || r.Reason != "amount 1000.5 is above flag_above 1000" {
		t.Errorf("large amount: %v", r)
	}
	for _, data := range []string{`{"country": "K"}`, `{"amount": "lots"}`, `{"amount": 1000}`, `[]`} {
		if r := p.Run(plugintest.NewEvent("order.created", data)); !r.Allowed() || r.Flagged() {
			t.Errorf("%s: %v, want allow", data, r)
		}
	}
}
