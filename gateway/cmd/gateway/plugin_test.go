package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// cli runs the gateway command in process with args and stdin, and returns
// its stdout and error.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRoot(&stdout, &stderr)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return stdout.String(), err
}

// watModule compiles testdata/<name>.wat with wabt's wat2wasm (.ci/run
// installs it) into a temp dir and returns the .wasm path.
func watModule(t *testing.T, name string) string {
	t.Helper()
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatalf("wat2wasm not found: install wabt (apt-get install -y wabt); .ci/run does: %v", err)
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	if msg, err := exec.Command(bin, filepath.Join("testdata", name+".wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", name, err, msg)
	}
	return out
}

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

const paymentEvent = `{"type": "payment.created", "id": "evt_1", "source": "shop", "data": {"amount": 250}}`

// testPluginTimeout is the --timeout of plugin run in the tests that are
// not about the deadline, the most limits.timeout allows: the server's
// 50 ms default fails a call that a busy machine stalls, and these tests
// check what a plugin does, not how fast.
const testPluginTimeout = "10s"

// runPlugin runs `gateway plugin run --timeout testPluginTimeout args...`
// in process.
func runPlugin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	return cli(t, stdin, append([]string{"plugin", "run", "--timeout", testPluginTimeout}, args...)...)
}

func TestPluginRun(t *testing.T) {
	ev := writeFile(t, t.TempDir(), "event.json", paymentEvent)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"flag with config", []string{watModule(t, "note"), "--event", ev, "--config", "note=looks odd"},
			[]string{"(filter,", "verdict: flag\n", "reason:  looks odd\n", `level=INFO msg="checking an event"`, "time:    load "}},
		{"deny without config", []string{watModule(t, "note"), "--event", ev},
			[]string{"verdict: deny\n", "reason:  no note\n"}},
		{"transform sees the meta", []string{watModule(t, "meta"), "--event", ev, "--webhook-id", "wh_partner"},
			[]string{"(transform,", "action:  replaced\n", `"id":"evt_1"`, `"type":"payment.created"`, `"source":"shop"`, `"webhook_id":"wh_partner"`, "logs:    (none)\n"}},
		{"observer with KV and metrics", []string{watModule(t, "count"), "--event", ev},
			[]string{"(observer,", "result:  ok\n", `msg="observed an event"`, "metrics: seen=1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPlugin(t, "", tt.args...)
			require.NoError(t, err, "output:\n%s", out)
			for _, want := range tt.want {
				require.Contains(t, out, want)
			}
		})
	}
}

func TestPluginRun_stdin(t *testing.T) {
	out, err := runPlugin(t, `{"type": "a.b", "data": [1]}`, watModule(t, "note"), "--event", "-", "--config", "note=x")
	require.NoError(t, err)
	require.Contains(t, out, "event:   a.b evt_plugin_run\n")
	require.Contains(t, out, "verdict: flag\n")
}

// TestPluginRun_json: --json prints one JSON object with what the text
// shows, also for a call that fails (which still exits with an error).
func TestPluginRun_json(t *testing.T) {
	ev := writeFile(t, t.TempDir(), "event.json", paymentEvent)
	type report struct {
		Plugin, Kind, SHA256, Verdict, Reason, Action, Error string
		Size                                                 int
		Event                                                struct{ ID, Type string }
		Output                                               json.RawMessage
		Logs                                                 []map[string]any
		Metrics                                              map[string]int64
		LoadTime                                             string `json:"load_time"`
		CallTime                                             string `json:"call_time"`
	}
	decode := func(t *testing.T, out string) report {
		t.Helper()
		var r report
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&r), "output:\n%s", out)
		require.True(t, !dec.More(), "more than one JSON value:\n%s", out)
		return r
	}

	note := watModule(t, "note")
	out, err := cli(t, "", "plugin", "run", note, "--event", ev, "--config", "note=looks odd", "--json")
	require.NoError(t, err, "output:\n%s", out)
	r := decode(t, out)
	require.Equal(t, "filter", r.Kind)
	require.Equal(t, note, r.Plugin)
	require.Equal(t, "flag", r.Verdict)
	require.Equal(t, "looks odd", r.Reason)
	require.Equal(t, "evt_1", r.Event.ID)
	require.Equal(t, "payment.created", r.Event.Type)
	require.True(t, r.Size > 0 && len(r.SHA256) == 64 && r.LoadTime != "" && r.CallTime != "", "%+v", r)
	require.Equal(t, 1, len(r.Logs))
	require.Equal(t, "INFO", r.Logs[0]["level"])
	require.Equal(t, "checking an event", r.Logs[0]["msg"])

	out, err = cli(t, "", "plugin", "run", watModule(t, "meta"), "--event", ev, "--webhook-id", "wh_partner", "--json")
	require.NoError(t, err, "output:\n%s", out)
	r = decode(t, out)
	require.Equal(t, "replaced", r.Action)
	var data map[string]any
	require.NoError(t, json.Unmarshal(r.Output, &data), "output %s", r.Output)
	require.Equal(t, "wh_partner", data["webhook_id"])
	require.Equal(t, 0, len(r.Logs))

	out, err = cli(t, "", "plugin", "run", watModule(t, "count"), "--event", ev, "--json")
	require.NoError(t, err, "output:\n%s", out)
	r = decode(t, out)
	require.Equal(t, "observer", r.Kind)
	require.Equal(t, int64(1), r.Metrics["seen"])
	require.Equal(t, "observed an event", r.Logs[0]["msg"])

	out, err = cli(t, "", "plugin", "run", watModule(t, "trap"), "--event", ev, "--json")
	require.Error(t, err)
	r = decode(t, out)
	require.Contains(t, r.Error, "plugin crashed")
	require.Equal(t, "", r.Verdict)
}

func TestPluginRun_errors(t *testing.T) {
	dir := t.TempDir()
	ev := writeFile(t, dir, "event.json", paymentEvent)
	note := watModule(t, "note")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no such file", []string{filepath.Join(dir, "nope.wasm"), "--event", ev}, "no such file: "},
		{"not wasm", []string{ev, "--event", ev}, "is not a WebAssembly module"},
		{"wat text", []string{filepath.Join("testdata", "note.wat"), "--event", ev}, "compile it with wat2wasm"},
		{"wrong ABI", []string{watModule(t, "nomarker"), "--event", ev}, `missing export "gw_abi_v1" (not a gw_v1 plugin)`},
		{"missing export", []string{watModule(t, "noalloc"), "--event", ev}, `missing export "gw_alloc"`},
		{"wrong kind", []string{note, "--event", ev, "--kind", "transform"}, `declared kind "transform" but exports no "gw_transform"`},
		{"bad kind", []string{note, "--event", ev, "--kind", "router"}, `--kind "router"`},
		{"bad config", []string{note, "--event", ev, "--config", "novalue"}, `--config "novalue": want key=value`},
		{"no event flag", []string{note}, `"event" not set`},
		{"no such event file", []string{note, "--event", filepath.Join(dir, "nope.json")}, "no such event file"},
		{"bad event JSON", []string{note, "--event", writeFile(t, dir, "bad.json", `{"type": 1`)}, "bad JSON"},
		{"unknown event field", []string{note, "--event", writeFile(t, dir, "odd.json", `{"type": "a", "data": {}, "payload": {}}`)}, `unknown field "payload"`},
		{"event without type or data", []string{note, "--event", writeFile(t, dir, "empty.json", `{}`)}, `"type" is missing; "data" is missing`},
		{"crash", []string{watModule(t, "trap"), "--event", ev}, "plugin crashed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPlugin(t, "", tt.args...)
			require.Error(t, err, "output:\n%s", out)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestPluginRun_timeout: --timeout is the call deadline, and it is bounded
// as limits.timeout is. The loop never returns, so any deadline ends it.
func TestPluginRun_timeout(t *testing.T) {
	ev := writeFile(t, t.TempDir(), "event.json", paymentEvent)
	loop := watModule(t, "loop")
	out, err := cli(t, "", "plugin", "run", loop, "--event", ev, "--timeout", "100ms")
	require.Error(t, err, "output:\n%s", out)
	require.Contains(t, err.Error(), "plugin call deadline exceeded (100ms)")
	for _, bad := range []string{"11s", "-1s"} {
		_, err = cli(t, "", "plugin", "run", loop, "--event", ev, "--timeout", bad)
		require.Error(t, err, "--timeout %s", bad)
		require.Contains(t, err.Error(), "--timeout "+bad+": must be at most 10s")
	}
}

func TestPluginBuild_errors(t *testing.T) {
	empty := t.TempDir()
	writeFile(t, empty, "README.md", "no sources\n")
	broken := t.TempDir()
	writeFile(t, broken, "plugin.c", "int x = ;\n")
	noEntry := t.TempDir()
	writeFile(t, noEntry, "package.json", "{}\n")
	for _, tt := range []struct {
		name, dir string
		want      []string
	}{
		{"no such directory", filepath.Join(empty, "nope"), []string{"no such directory"}},
		{"no sources", empty, []string{"no plugin sources: want Go files"}},
		{"C compile error", broken, []string{"c plugin in " + broken, "clang: exit status 1", "plugin.c:1:9: error: expected expression"}},
		{"AssemblyScript without an entry", noEntry, []string{"assemblyscript plugin in " + noEntry, "the entry file assembly/index.ts is missing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cli(t, "", "plugin", "build", tt.dir)
			require.Error(t, err, "output:\n%s", out)
			for _, want := range tt.want {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}

func TestPluginNew_errors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"x", "--lang", "rust"}, `--lang "rust": want go, c or assemblyscript`},
		{[]string{"x", "--kind", "router"}, `--kind "router"`},
		{[]string{"Bad Name"}, `name "Bad Name"`},
		{[]string{"x", "--replace", dir}, "is not the SDK module github.com/eventgw/gateway/sdk: want the directory of a gateway checkout"},
		{[]string{"x", "--lang", "c", "--replace", dir}, "--replace applies to Go projects only"},
	} {
		_, err := cli(t, "", append([]string{"plugin", "new", "--dir", dir}, tt.args...)...)
		require.Error(t, err, "%v", tt.args)
		require.Contains(t, err.Error(), tt.want)
	}
	_, err := os.Stat(filepath.Join(dir, "x"))
	require.True(t, os.IsNotExist(err), "a refused plugin new wrote %s: %v", filepath.Join(dir, "x"), err)
	_, err = cli(t, "", "plugin", "new", "twice", "--dir", dir, "--lang", "c")
	require.NoError(t, err)
	_, err = cli(t, "", "plugin", "new", "twice", "--dir", dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "exists and is not empty")
}

// TestPluginNew_insideGatewayModule: a project inside the gateway's module
// shares its go.mod, as the first-party plugins do.
func TestPluginNew_insideGatewayModule(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "go.mod", "module github.com/eventgw/gateway\n\ngo 1.26\n")
	_, err := cli(t, "", "plugin", "new", "inner", "--dir", filepath.Join(dir, "plugins"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "plugins", "inner", "go.mod"))
	require.True(t, os.IsNotExist(err), "a go.mod was written inside the gateway's module: %v", err)
	readme, err := os.ReadFile(filepath.Join(dir, "plugins", "inner", "README.md"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "created inside the gateway's own module")
}

// TestPlugin_newBuildRun is a new plugin author's flow with a development
// build of the gateway: in a directory outside any checkout, offline
// (GOPROXY=off, GOFLAGS=-mod=mod), with no --replace, it scaffolds a
// project of each language and kind with the real binary, runs its
// generated tests, builds it and runs the module under the host. The
// project needs nothing but the binary: a Go project requires only the SDK
// module, from the copy plugin new wrote into it. An AssemblyScript
// project's first build runs npm install (from npm's cache when .ci/run has
// filled it).
func TestPlugin_newBuildRun(t *testing.T) {
	checkout, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the go tool")
	bin := gatewayBinary(t)
	// The generated C and AssemblyScript tests run the gateway binary.
	env := append(gatewayEnv(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off",
		"PATH="+filepath.Dir(bin)+string(filepath.ListSeparator)+os.Getenv("PATH"))
	exec1 := func(t *testing.T, dir, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v:\n%s", filepath.Base(name), args, out)
		return string(out)
	}
	sources := map[string]string{"go": "main.go", "assemblyscript": filepath.Join("assembly", "index.ts")}
	for _, lang := range []string{"go", "c", "assemblyscript"} {
		for _, tt := range []struct {
			kind string
			run  []string
			want []string
		}{
			{"filter", []string{"--config", "max_amount=100"}, []string{"verdict: deny\n", "reason:  amount 250 is over 100\n"}},
			{"transform", []string{"--config", "tag=billing"}, []string{"action:  replaced\n", `"amount":`, `"tagged_by":"billing"}`}},
			{"observer", nil, []string{"result:  ok\n", `msg="event payment.created evt_1"`, "metrics: events=1\n"}},
		} {
			t.Run(lang+"/"+tt.kind, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				require.True(t, !strings.HasPrefix(dir, checkout+string(filepath.Separator)), "%s is inside the checkout", dir)
				name := "my" + tt.kind
				project := filepath.Join(dir, name)
				out := exec1(t, dir, bin, "plugin", "new", name, "--lang", lang, "--kind", tt.kind)
				src := sources[lang]
				if lang == "c" {
					src = filepath.Join("src", name+".c")
				}
				require.Contains(t, out, filepath.Join(project, src))
				require.True(t, !strings.Contains(out, "note:"), "plugin new:\n%s", out)
				gomod, err := os.ReadFile(filepath.Join(project, "go.mod"))
				require.NoError(t, err)
				require.True(t, !strings.Contains(string(gomod), checkout), "go.mod points into the checkout:\n%s", gomod)
				for _, req := range requirements(string(gomod)) {
					require.Equal(t, sdkModule, req, "go.mod requires more than the SDK module:\n%s", gomod)
				}
				_, err = os.Stat(filepath.Join(project, sdkCopyDir, "go.mod"))
				require.Equal(t, lang == "go", err == nil, "the copy of the SDK module in a %s project: %v", lang, err)
				requireGofmt(t, project)

				exec1(t, project, goTool, "test", ".")

				out = exec1(t, project, bin, "plugin", "build", ".", "-o", filepath.Join(dir, "p.wasm"))
				wasm, err := os.ReadFile(filepath.Join(dir, "p.wasm"))
				require.NoError(t, err)
				sum := sha256.Sum256(wasm)
				require.Contains(t, out, "lang:   "+lang+"\n")
				require.Contains(t, out, "sha256: "+hex.EncodeToString(sum[:]))

				ev := writeFile(t, dir, "event.json", paymentEvent)
				out = exec1(t, dir, bin, append([]string{"plugin", "run", "p.wasm", "--event", ev, "--timeout", testPluginTimeout}, tt.run...)...)
				for _, want := range tt.want {
					require.Contains(t, out, want)
				}
			})
		}
	}
}

// TestPluginNew_replace: --replace CHECKOUT, for contributors, points a Go
// project at the checkout's SDK instead of a copy, and its tests pass
// offline.
func TestPluginNew_replace(t *testing.T) {
	checkout, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOWORK", "off")
	out, err := cli(t, "", "plugin", "new", "contrib", "--dir", dir, "--replace", checkout)
	require.NoError(t, err)
	require.True(t, !strings.Contains(out, "note:"), "plugin new:\n%s", out)
	project := filepath.Join(dir, "contrib")
	gomod, err := os.ReadFile(filepath.Join(project, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "replace "+sdkModule+" => "+filepath.Join(checkout, "sdk")+"\n")
	_, err = os.Stat(filepath.Join(project, sdkCopyDir))
	require.True(t, os.IsNotExist(err), "--replace wrote a copy of the SDK: %v", err)
	cmd := exec.Command("go", "test", ".")
	cmd.Dir = project
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go test:\n%s", msg)
}

// TestSDKVersion: a release build requires the SDK version it was built
// with; a build whose SDK was replaced (a checkout) or not resolved by the
// module system (a workspace, (devel)) is a development build.
func TestSDKVersion(t *testing.T) {
	dep := func(version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: sdkModule, Version: version, Replace: replace}
	}
	for _, tt := range []struct {
		name string
		deps []*debug.Module
		want string
	}{
		{"release", []*debug.Module{{Path: "github.com/tetratelabs/wazero", Version: "v1.12.0"}, dep("v1.2.3", nil)}, "v1.2.3"},
		{"checkout", []*debug.Module{dep(devVersion, &debug.Module{Path: "./sdk"})}, ""},
		{"workspace", []*debug.Module{dep("(devel)", nil)}, ""},
		{"no SDK", nil, ""},
	} {
		info := &debug.BuildInfo{Main: debug.Module{Path: gatewayModule, Version: "(devel)"}, Deps: tt.deps}
		require.Equal(t, tt.want, sdkVersion(info), tt.name)
	}
	data := scaffoldData{Module: "myfilter", SDKModule: sdkModule, Require: "v1.2.3"}
	require.Equal(t, "module myfilter\n\ngo 1.26\n\nrequire github.com/eventgw/gateway/sdk v1.2.3\n", execTemplate(goModTmpl, data))
}

// requireGofmt fails t if a Go file of the project (outside a copy of the
// SDK) is not gofmt-formatted.
func requireGofmt(t *testing.T, project string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(project, "*.go"))
	require.NoError(t, err)
	for _, name := range names {
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		formatted, err := format.Source(src)
		require.NoError(t, err, "%s", name)
		require.True(t, bytes.Equal(src, formatted), "%s is not gofmt-formatted:\n%s", name, src)
	}
}

// requirements returns the module paths a go.mod requires.
func requirements(gomod string) []string {
	var reqs []string
	block := false
	for line := range strings.Lines(gomod) {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block && f[0] == ")":
			block = false
		case block:
			reqs = append(reqs, f[0])
		case f[0] == "require" && len(f) > 1 && f[1] == "(":
			block = true
		case f[0] == "require" && len(f) > 1:
			reqs = append(reqs, f[1])
		}
	}
	return reqs
}
