package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestServe_sigterm: SIGTERM shuts the gateway down cleanly with exit code
// 0, and a restart finds the data.
func TestServe_sigterm(t *testing.T) {
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir)
	s := serve(t, cfg)
	resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(`{"id":"before-term","type":"a.b","data":{}}`))
	require.NoError(t, err)
	resp.Body.Close()

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))
	log := s.log()
	for _, want := range []string{`msg="shutting down"`, "msg=stopped"} {
		require.True(t, strings.Contains(log, want), "the log lacks %s:\n%s", want, log)
	}
	require.False(t, strings.Contains(log, "level=ERROR"), "a clean stop logged an error:\n%s", log)

	s = serve(t, cfg)
	require.Equal(t, 200, s.getJSON(t, "/v1/events/before-term", nil))
	require.NoError(t, s.cmd.Process.Signal(os.Interrupt))
	require.Equal(t, 0, s.wait(t))
}

// TestServe_sighup: SIGHUP, which process managers send to mean "reload",
// neither stops nor kills the gateway: it logs a warning that reload is not
// supported and keeps serving on the same config, and a SIGTERM afterwards
// still stops it cleanly.
func TestServe_sighup(t *testing.T) {
	s := serve(t, writeServeConfig(t, t.TempDir()))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	const warning = `level=WARN msg="SIGHUP received: reload is not supported yet; the config is unchanged"`
	s.await(t, time.After(waitLimit), "log the SIGHUP warning", func() bool { return strings.Contains(s.log(), warning) })
	// A second one is handled the same way, and the gateway still serves.
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	s.await(t, time.After(waitLimit), "log the second SIGHUP warning", func() bool { return strings.Count(s.log(), warning) == 2 })
	resp, err := httpClient.Post(s.base+"/v1/events", "application/json", strings.NewReader(`{"id":"after-hup","type":"a.b","data":{}}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 202, resp.StatusCode)
	status, err := s.status("/readyz")
	require.NoError(t, err)
	require.Equal(t, 200, status)

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))
	log := s.log()
	require.True(t, strings.Contains(log, "msg=stopped"), "the log lacks msg=stopped:\n%s", log)
	require.False(t, strings.Contains(log, "level=ERROR"), "a clean stop logged an error:\n%s", log)
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		return path
	}
	broken := write("broken.yaml", `
server:
  addr: nope
  read_timeout: 5
storage:
  path: ""
log:
  level: loud
  colour: true
webhooks:
  - id: wh_ok
    url: https://ok.example/
    event_types: [">"]
  - id: wh_bad
    url: ftp://bad.example/
    event_types: ["a..b"]
`)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{
			name:     "every problem with its key path",
			args:     []string{"validate", "--config", broken},
			wantCode: 1,
			wantStderr: []string{
				"invalid config (7 problems):",
				`server.addr: must be host:port with a numeric port 0-65535, such as "127.0.0.1:8080" or ":8080", got "nope"`,
				`server.read_timeout: must be a duration such as "30s", "5m" or "24h"; got a number without a unit`,
				"storage.path: is required unless storage.memory is true",
				`log.level: must be one of debug, info, warn or error, got "loud"`,
				"log.colour: unknown key",
				`webhooks[1].url: must be an absolute http or https URL, got scheme "ftp"`,
				`webhooks[1].event_types[0]: invalid pattern: "a..b" has an empty segment`,
			},
		},
		{
			name:       "YAML syntax error names the file",
			args:       []string{"validate", "--config", write("syntax.yaml", "server: [\n")},
			wantCode:   1,
			wantStderr: []string{"syntax.yaml"},
		},
		{
			name:       "missing file",
			args:       []string{"validate", "--config", filepath.Join(dir, "absent.yaml")},
			wantCode:   1,
			wantStderr: []string{"absent.yaml"},
		},
		{
			name:       "the repository's gateway.yaml",
			args:       []string{"validate", "--config", filepath.Join("..", "..", "..", "gateway.yaml")},
			wantStdout: []string{"gateway.yaml: valid"},
		},
		{
			name:       "version",
			args:       []string{"version"},
			wantStdout: []string{"gateway "},
		},
		{
			name:       "unknown command",
			args:       []string{"frobnicate"},
			wantCode:   1,
			wantStderr: []string{"unknown command"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			require.Equal(t, tc.wantCode, code)
			for _, want := range tc.wantStdout {
				require.True(t, strings.Contains(stdout, want), "stdout lacks %q:\n%s", want, stdout)
			}
			for _, want := range tc.wantStderr {
				require.True(t, strings.Contains(stderr, want), "stderr lacks %q:\n%s", want, stderr)
			}
		})
	}
}

// TestValidate_plugins: validate reads every plugin path and compiles it
// against gw_v1, as a start would, and names the plugin and the file of
// each one that would fail (issue 10, finding 9: a path that is not wasm
// passed).
func TestValidate_plugins(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notWasm, []byte("hello, not a module\n"), 0o600))
	good, noMarker := watModule(t, "note"), watModule(t, "nomarker")
	cfg := filepath.Join(dir, "gateway.yaml")
	body := "storage:\n  memory: true\nplugins:\n" +
		"  - name: good\n    path: " + good + "\n" +
		"  - name: text\n    path: " + notWasm + "\n" +
		"  - name: abi\n    path: " + noMarker + "\n" +
		"  - name: pinned\n    path: " + good + "\n    sha256: " + strings.Repeat("ab", 32) + "\n"
	require.NoError(t, os.WriteFile(cfg, []byte(body), 0o600))
	code, _, stderr := run(t, "validate", "--config", cfg)
	require.Equal(t, 1, code)
	for _, want := range []string{
		`plugins[1] "text": ` + notWasm + `: not a WebAssembly module`,
		`plugins[2] "abi": ` + noMarker + `: `,
		`missing export "gw_abi_v1"`,
		`plugins[3] "pinned": sha256 of the module is`,
	} {
		require.True(t, strings.Contains(stderr, want), "stderr lacks %q:\n%s", want, stderr)
	}
	require.False(t, strings.Contains(stderr, `"good"`), "the good plugin is reported:\n%s", stderr)

	require.NoError(t, os.WriteFile(cfg, []byte("storage:\n  memory: true\nplugins:\n  - name: good\n    path: "+good+"\n"), 0o600))
	code, stdout, stderr := run(t, "validate", "--config", cfg)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	require.True(t, strings.Contains(stdout, "1 plugins compiled"), "stdout: %s", stdout)
}

// TestServe_cpuprofile: --cpuprofile writes a CPU profile (gzip-compressed
// protobuf, as go tool pprof reads it) when the gateway stops.
func TestServe_cpuprofile(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	s := serve(t, writeServeConfig(t, dir), "--cpuprofile", prof)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, s.wait(t))
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.True(t, len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b, "not a gzip-compressed profile: %d bytes", len(b))
}
