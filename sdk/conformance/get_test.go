package conformance

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/sdktest"
)

// goPath is the path the Go probe reads; TestAssemblyScriptGet sets it
// before each native run.
var goPath string

// The Go side of the differential test: the same probe as
// testdata/probe_get.ts, on the Go SDK's scanner, run natively.
func init() {
	sdk.Filter(func(e *sdk.Event) sdk.Verdict {
		if v, ok := e.Get("doc." + goPath); ok {
			return sdk.Flag("+" + v)
		}
		return sdk.Flag("-")
	})
}

// scanSeeds are JSON documents (and broken ones) for the scanners.
var scanSeeds = []string{
	`{"a":1,"b":"two","c":{"d":[10,20,{"e":"deep"}]},"f":null,"g":true}`,
	`{"s":"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 lone \ud800 x \udc00 y"}`,
	`{"we\"ird":"k1","a.b":"dot","":"empty","items":[1,[2,3],{"x":"y"}]}`,
	`[{"a":1},{"a":2},[0,1,2,3,4,5,6,7,8,9,10,11]]`,
	`{ "a" : { "b" : [ 1 , 2 , "three" ] } , "n" : -1.5e+3 }`,
	`{"a":10"b":{"c":[1]},"z":1}`,
	`{"a":"unterminated`,
	`{"a":[1,2,`,
	`"just a string"`,
	`42`,
}

// scanPaths are the paths asked of every document.
var scanPaths = []string{
	"", "a", "b", "c", "c.d", "c.d.0", "c.d.2.e", "c.d.3", "c.d.00", "c.d.+1", "c.d.-0",
	"c.d.4294967296", "c.d.1x", "f", "g", "s", `we"ird`, "", "items.1.0", "items.2.x",
	"0", "0.a", "1.a", "2.11", "2.011", "n", "a.b", "a.b.2", "z", "missing",
}

// TestAssemblyScriptGet compares the AssemblyScript SDK's e.get with the
// Go SDK's e.Get on the same documents and paths: the seeds and thousands
// of truncations and byte mutations of them. The two must agree on every
// input, well-formed or not, and neither may crash.
func TestAssemblyScriptGet(t *testing.T) {
	var as language
	for _, l := range languages {
		if l.name == "assemblyscript" {
			as = l
		}
	}
	tool, err := filepathAbs(as.tool)
	if err != nil {
		t.Fatalf("assemblyscript toolchain missing: %v: install it (%s); .ci/run does", err, as.hint)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "probe.wasm")
	if b, err := as.build(t, tool, filepath.Join("testdata", "probe_get.ts"), out, dir).CombinedOutput(); err != nil {
		t.Fatalf("build probe_get.ts: %v\n%s", err, b)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p := plugintest.Load(t, wasm, plugintest.Options{})

	docs := append([]string(nil), scanSeeds...)
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `{}[],:"\ 0123456789abcdefnrtu.-+eE`
	for range 600 {
		d := []byte(scanSeeds[rng.IntN(len(scanSeeds))])
		switch rng.IntN(3) {
		case 0:
			d = d[:rng.IntN(len(d)+1)]
		default:
			for range 1 + rng.IntN(3) {
				d[rng.IntN(len(d))] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		docs = append(docs, string(d))
	}

	diffs := 0
	for _, doc := range docs {
		for _, path := range scanPaths {
			q, _ := json.Marshal(path)
			data := `{"path":` + string(q) + `,"doc":` + doc + `}`
			goPath = path
			want := sdktest.Run(sdktest.NewEvent("probe", data))
			got := p.Run(plugintest.NewEvent("probe", data))
			if got.Err != nil {
				t.Fatalf("doc %q path %q: the AssemblyScript probe failed: %v", doc, path, got.Err)
			}
			if got.Reason != want.Reason {
				diffs++
				if diffs <= 10 {
					t.Errorf("doc %q path %q: AssemblyScript %q, Go %q", doc, path, got.Reason, want.Reason)
				}
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d cases differ", diffs, len(docs)*len(scanPaths))
	}
}

// filepathAbs resolves a tool path and checks that it exists.
func filepathAbs(p string) (string, error) {
	if !strings.Contains(p, string(filepath.Separator)) {
		return p, nil
	}
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return filepath.Abs(p)
}
