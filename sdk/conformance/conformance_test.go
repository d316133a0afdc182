package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
	"github.com/eventgw/gateway/sdk/abi"
)

// fixtures are the reference plugins; each language has
// testdata/NAME.<ext> for every one of them.
var fixtures = []string{"filter", "transform", "observer"}

// ClangFlags are the flags the C SDK documents (sdk/c/README.md); the test
// adds -I for gw.h and -Werror.
var ClangFlags = []string{"--target=wasm32-wasi", "-mexec-model=reactor", "-O2"}

// language builds one language's fixtures into .wasm files. A missing
// toolchain fails the test (it is never skipped): .ci/run installs them.
type language struct {
	name string
	ext  string
	tool string // the binary that must be on PATH
	hint string // how to install it
	// build returns the command that compiles src into out; tmp is a
	// scratch directory of the test.
	build func(t *testing.T, tool, src, out, tmp string) *exec.Cmd
}

// ascConfig is the AssemblyScript SDK's compiler configuration: the flags
// every AssemblyScript plugin builds with (sdk/assemblyscript/README.md).
var ascConfig = filepath.Join("..", "assemblyscript", "asconfig.json")

var languages = []language{
	{
		name: "wat", ext: ".wat", tool: "wat2wasm",
		hint: "apt-get install wabt",
		build: func(_ *testing.T, tool, src, out, _ string) *exec.Cmd {
			return exec.Command(tool, src, "-o", out)
		},
	},
	{
		name: "c", ext: ".c", tool: "clang",
		hint: "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32",
		build: func(_ *testing.T, tool, src, out, _ string) *exec.Cmd {
			args := append(append([]string{}, ClangFlags...),
				"-Wall", "-Wextra", "-Werror", "-I", filepath.Join("..", "c"), "-o", out, src)
			return exec.Command(tool, args...)
		},
	},
	{
		// The compiler is the one pinned by sdk/assemblyscript's lockfile.
		// The fixtures import "eventgw-sdk"; --path points the compiler at
		// a directory where that name is a link to sdk/assemblyscript, as
		// node_modules/eventgw-sdk is in a plugin project.
		name: "assemblyscript", ext: ".ts",
		tool: filepath.Join("..", "assemblyscript", "node_modules", ".bin", "asc"),
		hint: "cd sdk/assemblyscript && npm ci (needs node and npm)",
		build: func(t *testing.T, tool, src, out, tmp string) *exec.Cmd {
			sdk, err := filepath.Abs(filepath.Join("..", "assemblyscript"))
			if err != nil {
				t.Fatal(err)
			}
			mods := filepath.Join(tmp, "modules")
			if err := os.MkdirAll(mods, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(sdk, filepath.Join(mods, "eventgw-sdk")); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
			return exec.Command(tool, src, "--config", ascConfig, "--path", mods, "--outFile", out)
		},
	},
}

// buildAll builds every fixture of lang and returns name -> wasm.
func buildAll(t *testing.T, lang language) map[string][]byte {
	t.Helper()
	tool, err := exec.LookPath(lang.tool)
	if err != nil {
		t.Fatalf("%s toolchain missing: %s not found on PATH: install it (%s); .ci/run does", lang.name, lang.tool, lang.hint)
	}
	dir := t.TempDir()
	out := map[string][]byte{}
	for _, f := range fixtures {
		src := filepath.Join("testdata", f+lang.ext)
		dst := filepath.Join(dir, f+".wasm")
		cmd := lang.build(t, tool, src, dst, dir)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s\n(is the %s toolchain complete? install: %s)", src, err, b, lang.name, lang.hint)
		}
		wasm, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = wasm
	}
	return out
}

// wantLog is one expected gw_v1 log line.
type wantLog struct {
	level slog.Level
	msg   string
}

// step is one Run and what it must produce.
type step struct {
	data   string
	code   int32 // the verdict or transform result
	reason string
	output string // "" means no output
	logs   []wantLog
	fails  bool // the plugin returns an error (a negative result)
}

// testCase is one row of the table: a fixture, its setup, the runs and the
// state afterwards.
type testCase struct {
	name    string
	fixture string
	kind    abi.Kind
	config  map[string]string
	setKV   map[string]string
	steps   []step
	kv      map[string]string // "" means the key must be absent
	kvInt   map[string]int64
	metrics map[string]int64
}

var counted = []wantLog{{slog.LevelInfo, "filter: counted"}}

var bigData = `{"blob":"` + strings.Repeat("x", 200<<10) + `"}`

var table = []testCase{
	{
		name: "filter allows up to the limit", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "2"},
		steps: []step{
			{data: `{"user":"ann","n":1}`, code: abi.Allow, logs: counted},
			{data: `{"n":2,"user":"ann"}`, code: abi.Allow, logs: counted},
		},
		kvInt:   map[string]int64{"count:ann": 2},
		metrics: map[string]int64{"filtered": 2},
	},
	{
		name: "filter denies over the limit with a reason", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "1"},
		steps: []step{
			{data: `{"user":"bob"}`, code: abi.Allow, logs: counted},
			{data: `{"user":"bob"}`, code: abi.Deny, reason: "over limit", logs: counted},
			{data: `{"user":"bob"}`, code: abi.Deny, reason: "over limit", logs: counted},
		},
		kvInt:   map[string]int64{"count:bob": 3},
		metrics: map[string]int64{"filtered": 3},
	},
	{
		name: "filter counts per user field", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "1"},
		steps: []step{
			{data: `{"user":"ann"}`, code: abi.Allow, logs: counted},
			{data: `{"user":"bob"}`, code: abi.Allow, logs: counted},
			{data: `{"user":"ann"}`, code: abi.Deny, reason: "over limit", logs: counted},
			{data: `{"id":7}`, code: abi.Allow, logs: counted},
		},
		kvInt:   map[string]int64{"count:ann": 2, "count:bob": 1, "count:": 1},
		metrics: map[string]int64{"filtered": 4},
	},
	{
		name: "filter without config limit denies", fixture: "filter", kind: abi.KindFilter,
		steps: []step{
			{data: `{"user":"cy"}`, code: abi.Deny, reason: "over limit", logs: counted},
		},
		kvInt:   map[string]int64{"count:cy": 1},
		metrics: map[string]int64{"filtered": 1},
	},
	{
		name: "filter with a non-numeric limit denies", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "ten"},
		steps: []step{
			{data: `{"user":"cy"}`, code: abi.Deny, reason: "over limit", logs: counted},
		},
		kvInt: map[string]int64{"count:cy": 1},
	},
	{
		name: "filter denies a blocked key found with kv_get", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "5"},
		setKV:  map[string]string{"block": "a value longer than the WAT guest's 8-byte buffer and the other SDKs' first 64-byte buffer: " + strings.Repeat("x", 100)},
		steps: []step{
			{data: `{"user":"dee"}`, code: abi.Deny, reason: "blocked"},
		},
		kv:      map[string]string{"count:dee": ""},
		metrics: map[string]int64{},
	},
	{
		name: "filter fails when kv_incr refuses a key over 256 bytes", fixture: "filter", kind: abi.KindFilter,
		config: map[string]string{"limit": "5"},
		steps: []step{
			{data: `{"user":"` + strings.Repeat("u", 300) + `"}`, fails: true},
		},
		kv:      map[string]string{"count:": ""},
		metrics: map[string]int64{},
	},
	{
		name: "transform wraps the data", fixture: "transform", kind: abi.KindTransform,
		steps: []step{
			{data: `{"a":1}`, code: abi.Replaced, output: `{"wrapped":{"a":1}}`,
				logs: []wantLog{{slog.LevelInfo, "transform: wrapped"}}},
			{data: `[1,2,3]`, code: abi.Replaced, output: `{"wrapped":[1,2,3]}`,
				logs: []wantLog{{slog.LevelInfo, "transform: wrapped"}}},
		},
	},
	{
		name: "transform wraps data larger than the initial memory", fixture: "transform", kind: abi.KindTransform,
		steps: []step{
			{data: bigData, code: abi.Replaced, output: `{"wrapped":` + bigData + `}`,
				logs: []wantLog{{slog.LevelInfo, "transform: wrapped"}}},
		},
	},
	{
		name: "observer stores the last data and deletes tmp", fixture: "observer", kind: abi.KindObserver,
		setKV: map[string]string{"tmp": "x"},
		steps: []step{
			{data: `{"id":"first"}`, code: abi.ObserveOK, logs: []wantLog{{slog.LevelDebug, "observe: stored"}}},
			{data: `{"id":"second"}`, code: abi.ObserveOK, logs: []wantLog{{slog.LevelDebug, "observe: stored"}}},
		},
		kv: map[string]string{"last": `{"id":"second"}`, "tmp": ""},
	},
}

// TestConformance runs the table against every language's build.
func TestConformance(t *testing.T) {
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) {
			wasm := buildAll(t, lang)
			for _, tc := range table {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runCase(t, wasm[tc.fixture], tc)
				})
			}
		})
	}
}

func runCase(t *testing.T, wasm []byte, tc testCase) {
	p := plugintest.Load(t, wasm, plugintest.Options{Config: tc.config})
	if p.Kind() != tc.kind {
		t.Fatalf("kind = %q, want %q", p.Kind(), tc.kind)
	}
	for k, v := range tc.setKV {
		p.SetKV(k, []byte(v), 0)
	}
	for i, s := range tc.steps {
		r := p.Run(plugintest.NewEvent("conformance.test", s.data))
		where := fmt.Sprintf("step %d", i)
		if s.fails {
			if !errors.Is(r.Err, plugintest.ErrPluginError) {
				t.Errorf("%s: %v, want a plugin error", where, r)
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("%s: %v", where, r.Err)
		}
		if r.Kind != tc.kind || r.Code != s.code {
			t.Errorf("%s: kind %q code %d, want %q code %d", where, r.Kind, r.Code, tc.kind, s.code)
		}
		if r.Reason != s.reason {
			t.Errorf("%s: reason %q, want %q", where, r.Reason, s.reason)
		}
		if !bytes.Equal(r.Output, []byte(s.output)) && !(s.output == "" && len(r.Output) == 0) {
			t.Errorf("%s: output %.200q, want %.200q", where, r.Output, s.output)
		}
		if got := gwLogs(r.Logs); fmt.Sprint(got) != fmt.Sprint(s.logs) {
			t.Errorf("%s: logs %v, want %v (all: %v)", where, got, s.logs, r.Logs)
		}
	}
	for k, want := range tc.kv {
		v, ok := p.KV(k)
		switch {
		case want == "" && ok:
			t.Errorf("kv %q = %q, want absent", k, v)
		case want != "" && string(v) != want:
			t.Errorf("kv %q = %q (present %v), want %q", k, v, ok, want)
		}
	}
	for k, want := range tc.kvInt {
		if v, ok := p.KVInt(k); !ok || v != want {
			t.Errorf("kv counter %q = %d (present %v), want %d", k, v, ok, want)
		}
	}
	if tc.metrics != nil {
		got := p.Metrics()
		if len(got) != len(tc.metrics) {
			t.Errorf("metrics %v, want %v", got, tc.metrics)
		}
		for k, want := range tc.metrics {
			if got[k] != want {
				t.Errorf("metric %q = %d, want %d (all %v)", k, got[k], want, got)
			}
		}
	}
}

// gwLogs keeps the lines the plugin logged through gw_v1 log.
func gwLogs(logs []plugintest.Log) []wantLog {
	var out []wantLog
	for _, l := range logs {
		if l.Stream == "log" {
			out = append(out, wantLog{l.Level, l.Msg})
		}
	}
	return out
}
