package config

import (
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestLoad_plugins(t *testing.T) {
	ok := "plugins:\n" +
		"  - name: fraud\n    path: plugins/fraud.wasm\n    kind: filter\n    event_types: [\"payment.>\"]\n    on_error: deny\n    stage: ingest\n" +
		"    config: {max_per_minute: \"5\"}\n    limits: {memory_mib: 32, timeout: 20ms, instances: 4}\n" +
		"  - name: redact\n    source: plugins/redact\n    kind: transform\n" +
		"webhooks:\n  - id: wh_partner\n    url: https://example.com/p\n    event_types: [\">\"]\n    transform: redact\n"
	cfg, err := Load(LoadOptions{File: writeConfig(t, ok), FileRequired: true, Env: []string{}})
	require.NoError(t, err)
	require.Equal(t, 2, len(cfg.Plugins))
	require.Equal(t, "5", cfg.Plugins[0].Config["max_per_minute"])
	require.Equal(t, 32, cfg.Plugins[0].Limits.MemoryMiB)
	require.Equal(t, "redact", cfg.Webhooks[0].Transform)

	tests := []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "path and source",
			yaml: "plugins:\n  - name: a\n    path: a.wasm\n    source: a\n",
			want: []string{"plugins[0]: needs exactly one of path (a .wasm file) or source (a Go, C or AssemblyScript plugin directory)"},
		},
		{
			name: "everything wrong",
			yaml: "plugins:\n  - name: \"bad name\"\n    path: a.wasm\n    sha256: abc\n    kind: veto\n    event_types: [\"a..b\"]\n    on_error: retry\n    stage: later\n    limits: {memory_mib: -1, timeout: 1m, instances: 5000, kv_bytes: -1}\n",
			want: []string{
				"plugins[0].name: must be letters, digits, '_', '-' or '.' (it appears in metrics and URLs)",
				"plugins[0].sha256: must be 64 hexadecimal characters",
				`plugins[0].kind: must be observer, filter or transform, got "veto"`,
				`plugins[0].event_types[0]: invalid pattern: "a..b" has an empty segment`,
				"plugins[0].limits.memory_mib: must be from 1 to 4096 (0 means 16), got -1",
				"plugins[0].limits.timeout: must be at most 10s, got 1m0s",
				"plugins[0].limits.instances: must be from 1 to 1024 (0 means the number of CPUs), got 5000",
				"plugins[0].limits.kv_bytes: must be from 1 to 1073741824 (1 GiB; 0 means 16 MiB), got -1",
				`plugins[0].on_error: must be allow or deny (filters), pass or drop (transforms), got "retry"`,
				`plugins[0].stage: must be dispatch or ingest, got "later"`,
			},
		},
		{
			name: "kv_bytes above 1 GiB",
			yaml: "plugins:\n  - name: a\n    path: a.wasm\n    limits: {kv_bytes: 1099511627776}\n",
			want: []string{"plugins[0].limits.kv_bytes: must be from 1 to 1073741824 (1 GiB; 0 means 16 MiB), got 1099511627776"},
		},
		{
			name: "plugin over the memory budget",
			yaml: "plugin_limits: {max_memory_mib: 64}\nplugins:\n  - name: a\n    path: a.wasm\n    limits: {memory_mib: 128}\n",
			want: []string{"plugins[0].limits.memory_mib: 128 is more than plugin_limits.max_memory_mib (64), the budget of all plugin instances together"},
		},
		{
			name: "no memory budget",
			yaml: "plugin_limits: {max_memory_mib: 0}\n",
			want: []string{"plugin_limits.max_memory_mib: must be from 1 to 1048576, got 0"},
		},
		{
			name: "duplicate name, ingest observer, policy of another kind",
			yaml: "plugins:\n  - name: a\n    path: a.wasm\n  - name: a\n    path: b.wasm\n    kind: observer\n    stage: ingest\n    on_error: drop\n",
			want: []string{
				`plugins[1].name: "a" is used by another plugin`,
				`plugins[1].on_error: "drop" applies to transforms; this plugin is a observer`,
				"plugins[1].stage: ingest applies to filters only; set kind: filter",
			},
		},
		{
			name: "webhook transform",
			yaml: "plugins:\n  - name: f\n    path: f.wasm\n    kind: filter\n  - name: any\n    path: any.wasm\n" +
				"webhooks:\n  - id: a\n    url: https://example.com/a\n    event_types: [\">\"]\n    transform: nope\n" +
				"  - id: b\n    url: https://example.com/b\n    event_types: [\">\"]\n    transform: f\n" +
				"  - id: c\n    url: https://example.com/c\n    event_types: [\">\"]\n    transform: any\n",
			want: []string{
				`webhooks[0].transform: no plugin named "nope" in plugins`,
				`webhooks[1].transform: plugin "f" is a filter, not a transform`,
				`webhooks[2].transform: plugin "any" does not declare kind: transform; a webhook's transform must (plugins[1].kind)`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(LoadOptions{File: writeConfig(t, tc.yaml), FileRequired: true, Env: []string{}})
			requireProblems(t, err, tc.want)
		})
	}
}
