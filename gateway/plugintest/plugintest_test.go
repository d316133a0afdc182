package plugintest_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/plugintest"
	"github.com/eventgw/gateway/sdk/abi"
)

// velocityDir is a Go SDK test filter: it denies a card's third payment in
// a minute (kv_incr "card:<id>") and flags amounts over 1000.
const velocityDir = "../testdata/plugins/velocity"

func TestPlugin_Run(t *testing.T) {
	wasm := plugintest.Build(t, velocityDir)
	p := plugintest.Load(t, wasm, plugintest.Options{Name: "velocity", Config: map[string]string{"max_per_window": "2"}})
	if p.Kind() != abi.KindFilter {
		t.Fatalf("kind %q, want filter", p.Kind())
	}
	ev := plugintest.NewEvent("payment.created", `{"card_id":"c1","amount":5}`)
	for i := range 2 {
		if r := p.Run(ev); !r.Allowed() || r.Flagged() {
			t.Fatalf("payment %d: %v, want allow", i+1, r)
		}
	}
	r := p.Run(ev)
	if !r.Denied() || !strings.Contains(r.Reason, "card c1 made 3 payments") {
		t.Fatalf("payment 3: %v, want a velocity deny", r)
	}
	if n, ok := p.KVInt("card:c1"); !ok || n != 3 {
		t.Fatalf("kv card:c1 = %d, %v; want 3", n, ok)
	}
	if _, ok := p.KV("card:c2"); ok {
		t.Fatal("kv card:c2 exists")
	}
	if r := p.Run(plugintest.NewEvent("payment.created", map[string]any{"card_id": "c2", "amount": 5000})); !r.Flagged() || r.Reason != "large amount 5000" {
		t.Fatalf("large payment: %v, want a flag", r)
	}
}

func TestBuild_cached(t *testing.T) {
	a := plugintest.Build(t, velocityDir)
	b := plugintest.Build(t, "../testdata/plugins/velocity/")
	if &a[0] != &b[0] {
		t.Fatal("second Build of the same directory built again")
	}
}

func TestLoadErr_notWasm(t *testing.T) {
	_, err := plugintest.LoadErr(t, []byte("not wasm"), plugintest.Options{})
	if err == nil {
		t.Fatal("LoadErr of garbage succeeded")
	}
}

func TestResult_String(t *testing.T) {
	for _, tc := range []struct {
		r    plugintest.Result
		want string
	}{
		{plugintest.Result{Kind: abi.KindFilter, Code: abi.Deny, Reason: "no"}, "filter: deny (no)"},
		{plugintest.Result{Kind: abi.KindTransform, Code: abi.Replaced, Output: []byte(`{}`)}, "transform: replaced {}"},
		{plugintest.Result{Kind: abi.KindObserver, Code: abi.ObserveOK}, "observer: ok"},
		{plugintest.Result{Kind: abi.KindFilter, Err: errors.New("boom")}, "filter: error (boom)"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// wat compiles testdata/<name>.wat with wabt's wat2wasm; a missing
// wat2wasm fails the test (.ci/run installs wabt).
func wat(t *testing.T, name string) []byte {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatalf("wat2wasm not found: install wabt: %v", err)
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	if msg, err := exec.Command(bin, filepath.Join("testdata", name+".wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPlugin_Run_timeout(t *testing.T) {
	p := plugintest.Load(t, wat(t, "loop"), plugintest.Options{CallTimeout: 20 * time.Millisecond})
	if r := p.Run(plugintest.NewEvent("a.b", `{}`)); !r.Allowed() {
		t.Fatalf("got %v, want allow", r)
	}
	r := p.Run(plugintest.NewEvent("a.b", `L`))
	if !r.Failed() || !errors.Is(r.Err, plugintest.ErrTimeout) || r.Allowed() {
		t.Fatalf("got %v, want a timeout", r)
	}
}
