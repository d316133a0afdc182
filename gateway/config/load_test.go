package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestLoad_referenceConfigs(t *testing.T) {
	// Checks on a few values per file. A new file in configs/ is loaded and
	// validated without an entry here; add one to pin its values.
	checks := map[string]func(t *testing.T, c *Config){
		"gateway.yaml": func(t *testing.T, c *Config) {
			require.Equal(t, "127.0.0.1:8080", c.Server.Addr)
			require.Equal(t, "./data", c.Storage.Path)
			require.Equal(t, true, c.Storage.Sync)
			require.Equal(t, false, c.HasAuth())
			require.Equal(t, 0, len(c.Webhooks))
		},
		"minimal.yaml": func(t *testing.T, c *Config) {
			require.Equal(t, Defaults().Server, c.Server)
			require.Equal(t, "text", c.Log.Format)
		},
		"memory.yaml": func(t *testing.T, c *Config) {
			require.Equal(t, true, c.Storage.Memory)
			require.Equal(t, "127.0.0.1:0", c.Server.Addr)
			require.Equal(t, 5*time.Second, c.Server.ShutdownTimeout)
		},
		"production.yaml": func(t *testing.T, c *Config) {
			require.Equal(t, "0.0.0.0:8080", c.Server.Addr)
			require.Equal(t, "json", c.Log.Format)
			require.Equal(t, 2, len(c.Auth.APIKeys))
			require.Equal(t, "admin-0123456789abcdef0123456789abcdef", c.Auth.APIKeys[0].Key)
			require.Equal(t, 72*time.Hour, c.Ingest.IdempotencyWindow)
			require.Equal(t, 2, len(c.Webhooks))
			require.Equal(t, true, c.Webhooks[0].IsEnabled())
			require.Equal(t, false, c.Webhooks[1].IsEnabled())
			require.Equal(t, "billing", c.Webhooks[0].Headers["X-Team"])
			require.Equal(t, "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=", c.Webhooks[1].Secret)
		},
	}
	files := referenceFiles(t)
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			c, err := Load(LoadOptions{File: path, FileRequired: true, Env: referenceEnv})
			require.NoError(t, err)
			require.NoError(t, c.Validate())
			if check, ok := checks[name]; ok {
				seen++
				check(t, c)
			}
		})
	}
	require.Equal(t, len(checks), seen)
}

func TestLoad_broken(t *testing.T) {
	const hook = "  - id: wh_ok\n    url: https://example.com/a\n    event_types: [\">\"]\n"
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{
			name: "unknown key with suggestion",
			yaml: "server:\n  adrr: 127.0.0.1:9000\n",
			want: []string{`server.adrr: unknown key (did you mean "addr"?)`},
		},
		{
			name: "unknown section",
			yaml: "stroage:\n  path: x\n",
			want: []string{`stroage: unknown key (did you mean "storage"?)`},
		},
		{
			name: "dotted key",
			yaml: "server.addr: 127.0.0.1:9000\n",
			want: []string{`"server.addr": unknown key; nest keys as YAML mappings instead of joining them with dots`},
		},
		{
			name: "nested unknown key in a list",
			yaml: "webhooks:\n" + hook + "  - id: wh_two\n    urll: https://example.com/b\n    event_types: [\">\"]\n",
			want: []string{
				`webhooks[1].url: is required`,
				`webhooks[1].urll: unknown key (did you mean "url"?)`,
			},
		},
		{
			name: "bad url",
			yaml: "webhooks:\n" + hook + "  - id: wh_two\n    url: not a url\n    event_types: [\">\"]\n",
			want: []string{`webhooks[1].url: must be an absolute http or https URL`},
		},
		{
			name: "bad pattern",
			yaml: "webhooks:\n  - id: wh_a\n    url: https://example.com/a\n    event_types: [\"link..clicked\"]\n",
			want: []string{`webhooks[0].event_types[0]: invalid pattern: "link..clicked" has an empty segment`},
		},
		{
			name: "reserved header",
			yaml: "webhooks:\n" + hook + "    headers:\n      Host: example.org\n",
			want: []string{`webhooks[0].headers.Host: is reserved: it is taken from the webhook url`},
		},
		{
			name: "hop-by-hop and Expect headers",
			yaml: "webhooks:\n" + hook + "    headers:\n      Expect: 100-continue\n      Connection: close\n      TE: trailers\n      Upgrade: h2c\n",
			want: []string{
				`webhooks[0].headers.Connection: is reserved: it is a hop-by-hop header; the gateway's HTTP client manages the connection`,
				`webhooks[0].headers.Expect: is reserved: it would make every delivery wait for a 100 Continue; the gateway sends the body at once`,
				`webhooks[0].headers.TE: is reserved: it is a hop-by-hop header; the gateway's HTTP client sets it`,
				`webhooks[0].headers.Upgrade: is reserved: it is a hop-by-hop header; deliveries are plain requests`,
			},
		},
		{
			name: "port out of range",
			yaml: "webhooks:\n  - id: wh_a\n    url: https://example.com:0/a\n    event_types: [\"a.b\"]\n  - id: wh_b\n    url: https://example.com:99999/b\n    event_types: [\"a.b\"]\n",
			want: []string{
				`webhooks[0].url: must have a port from 1 to 65535, got "0"`,
				`webhooks[1].url: must have a port from 1 to 65535, got "99999"`,
			},
		},
		{
			name: "duplicate webhook ids",
			yaml: "webhooks:\n" + hook + hook,
			want: []string{`webhooks[1].id: "wh_ok" is already used by webhooks[0]; ids must be unique`},
		},
		{
			name: "secret and secret_env",
			yaml: "webhooks:\n" + hook + "    secret: whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n    secret_env: GATEWAY_WEBHOOK_LINKS_SECRET\n",
			env:  referenceEnv,
			want: []string{`webhooks[0]: set secret or secret_env, not both`},
		},
		{
			name: "bad secret from env",
			yaml: "webhooks:\n" + hook + "    secret_env: HOOK_SECRET\n",
			env:  []string{"HOOK_SECRET=hunter2"},
			want: []string{`webhooks[0].secret_env: the value of HOOK_SECRET must start with "whsec_"`},
		},
		{
			name: "bad duration",
			yaml: "server:\n  read_timeout: soon\n  write_timeout: 30\n",
			want: []string{
				`server.read_timeout: must be a duration such as "30s", "5m" or "24h", got a string`,
				`server.write_timeout: must be a duration such as "30s", "5m" or "24h"; got a number without a unit`,
			},
		},
		{
			name: "non-numeric max_body_bytes",
			yaml: "server:\n  max_body_bytes: abc\n",
			want: []string{`server.max_body_bytes: must be a whole number, got a string`},
		},
		{
			name: "wrong shape",
			yaml: "storage: ./data\nwebhooks:\n  id: wh_a\n",
			want: []string{
				`storage: must be a mapping of keys to values, got a string`,
				`webhooks[0].url: is required`,
				`webhooks[0].event_types: is required: give at least one pattern, e.g. "link.*" or ">"`,
			},
		},
		{
			name: "scalar for a list",
			yaml: "webhooks: abc\n",
			want: []string{`webhooks[0]: must be a mapping of keys to values, got a string`},
		},
		{
			name: "numbers that do not fit",
			yaml: "server:\n  max_body_bytes: 99999999999999999999999\ningest:\n  max_batch_events: 1.5\n",
			want: []string{
				`server.max_body_bytes: must be a whole number, got a number out of range`,
				`ingest.max_batch_events: must be a whole number, got a fraction`,
			},
		},
		{
			name: "no keys on 0.0.0.0",
			yaml: "server:\n  addr: 0.0.0.0:8080\n",
			want: []string{`auth.api_keys: required when server.addr (0.0.0.0:8080) is not a loopback address; an open API may only listen on loopback`},
		},
		{
			name: "no keys on an empty host",
			yaml: "server:\n  addr: :8080\n",
			want: []string{`auth.api_keys: required when server.addr (:8080) is not a loopback address; an open API may only listen on loopback`},
		},
		{
			name: "key_env unset",
			yaml: "auth:\n  api_keys:\n    - name: admin\n      key_env: GATEWAY_ADMIN_KEY\n      scopes: [admin]\n",
			env:  []string{"GATEWAY_OTHER=x"},
			want: []string{`auth.api_keys[0].key_env: environment variable GATEWAY_ADMIN_KEY is not set or is empty`},
		},
		{
			name: "short key",
			yaml: "auth:\n  api_keys:\n    - name: admin\n      key: letmein\n      scopes: [admin]\n",
			want: []string{"auth.api_keys[0].key: the key must be at least 16 characters: short keys are guessable (try `openssl rand -hex 32`)"},
		},
		{
			name: "bad scope",
			yaml: "auth:\n  api_keys:\n    - name: admin\n      key: 0123456789abcdef\n      scopes: [admin, write, admin]\n",
			want: []string{
				`auth.api_keys[0].scopes[1]: unknown scope "write"; use "publish" or "admin"`,
				`auth.api_keys[0].scopes[2]: "admin" is listed twice`,
			},
		},
		{
			name: "key and key_env",
			yaml: "auth:\n  api_keys:\n    - name: admin\n      key: 0123456789abcdef\n      key_env: GATEWAY_ADMIN_KEY\n      scopes: [admin]\n",
			env:  referenceEnv,
			want: []string{`auth.api_keys[0]: set key or key_env, not both`},
		},
		{
			name: "bad log level",
			yaml: "log:\n  level: verbose\n",
			want: []string{`log.level: must be one of debug, info, warn or error, got "verbose"`},
		},
		{
			name: "bad value from environment",
			env:  []string{"GATEWAY_STORAGE__SYNC=maybe", "GATEWAY_SERVER__ADRR=x"},
			want: []string{
				`server.adrr: unknown key (did you mean "addr"?)`,
				`storage.sync: must be true or false, got a string`,
			},
		},
		{
			name: "many problems",
			yaml: `server:
  addr: 0.0.0.0:99999
  max_body_bytes: 0
  idle_timeout: 0s
storage:
  path: ""
  min_free_bytes: -2
ingest:
  idempotency_window: 10s
  max_batch_events: 5000
auth:
  api_keys:
    - key: 0123456789abcdef
      scopes: []
    - name: ci
      key: 0123456789abcdef
      scopes: [publish]
log:
  format: xml
webhooks:
  - id: "bad id"
    url: https://example.com/a
    event_types: [">"]
`,
			want: []string{
				`server.addr: must be host:port with a numeric port 0-65535, such as "127.0.0.1:8080" or ":8080", got "0.0.0.0:99999"`,
				`server.max_body_bytes: must be greater than 0, got 0`,
				`server.idle_timeout: must be greater than 0, got 0s`,
				`storage.path: is required unless storage.memory is true`,
				`storage.min_free_bytes: must be 0 (the default: 256 MiB or 2% of the disk), a number of bytes, or -1 to turn the check off`,
				`ingest.idempotency_window: must be between 1m and 720h (30 days), got 10s`,
				`ingest.max_batch_events: must be between 1 and 1000, got 5000`,
				`auth.api_keys[0].name: is required: it names the key in logs`,
				`auth.api_keys[0].scopes: must list at least one of "publish" or "admin"`,
				`auth.api_keys[1].key: the key is the same as the key of auth.api_keys[0]; every key must be unique`,
				`log.format: must be text or json, got "xml"`,
				`webhooks[0].id: character ' ' at offset 3 is not allowed`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = []string{}
			}
			c, err := Load(LoadOptions{File: writeConfig(t, tt.yaml), FileRequired: true, Env: env})
			require.True(t, c == nil, "want no config with an error, got %+v", c)
			requireProblems(t, err, tt.want)
		})
	}
}

func TestLoad_fileErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		missing  bool
		required bool
		want     []string
	}{
		{name: "yaml syntax", yaml: "server:\n  addr: [127.0.0.1\n", want: []string{"config: parse ", "gateway.yaml", "yaml: line "}},
		{name: "tab indentation", yaml: "server:\n\taddr: x\n", want: []string{"gateway.yaml", "line 2"}},
		{name: "not a mapping", yaml: "- a\n- b\n", want: []string{"gateway.yaml", "cannot unmarshal"}},
		{name: "duplicate key", yaml: "log:\n  level: info\n  level: debug\n", want: []string{"gateway.yaml", `"level" already defined`}},
		{name: "required and missing", missing: true, required: true, want: []string{"config: read ", "missing.yaml", "file does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.yaml)
			if tt.missing {
				path = filepath.Join(t.TempDir(), "missing.yaml")
			}
			_, err := Load(LoadOptions{File: path, FileRequired: tt.required, Env: []string{}})
			require.Error(t, err)
			var ve *ValidationError
			require.False(t, errors.As(err, &ve), "want a file error, got problems:\n%v", err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
			if tt.missing {
				require.ErrorIs(t, err, fs.ErrNotExist)
			}
		})
	}
}

func TestLoad_defaults(t *testing.T) {
	tests := []struct {
		name string
		opts LoadOptions
	}{
		{name: "no file", opts: LoadOptions{Env: []string{}}},
		{name: "missing optional file", opts: LoadOptions{File: filepath.Join(t.TempDir(), "none.yaml"), Env: []string{}}},
		{name: "empty file", opts: LoadOptions{File: writeConfig(t, ""), Env: []string{}}},
		{name: "comments only", opts: LoadOptions{File: writeConfig(t, "# nothing\n"), Env: []string{}}},
		// A section whose keys are all commented out is null, not empty.
		{name: "null sections", opts: LoadOptions{File: writeConfig(t, "server:\nstorage:\n  path:\nlog:\nwebhooks:\n"), Env: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.opts)
			require.NoError(t, err)
			want := Defaults()
			require.Equal(t, want.Server, c.Server)
			require.Equal(t, want.Storage, c.Storage)
			require.Equal(t, want.Ingest, c.Ingest)
			require.Equal(t, want.Log, c.Log)
		})
	}
}

func TestLoad_precedence(t *testing.T) {
	file := writeConfig(t, "server:\n  addr: 127.0.0.1:9001\nstorage:\n  sync: false\n")
	newFlags := func(args ...string) *pflag.FlagSet {
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		fs.String("addr", "127.0.0.1:8080", "listen address")
		fs.Bool("sync", true, "fsync every event")
		fs.Duration("shutdown-timeout", time.Second, "grace period")
		fs.String("unmapped", "", "not a config key")
		require.NoError(t, fs.Parse(args))
		return fs
	}
	flagKeys := map[string]string{
		"addr":             "server.addr",
		"sync":             "storage.sync",
		"shutdown-timeout": "server.shutdown_timeout",
	}
	// Variables outside the GATEWAY_<SECTION>__ scheme must be ignored.
	unrelated := []string{"GATEWAY_ADMIN_KEY=0123456789abcdef", "GATEWAY_LOG=/var/log/x", "GATEWAY_FOO__BAR=1", "HOME=/root"}
	tests := []struct {
		name     string
		file     string
		env      []string
		flags    *pflag.FlagSet
		wantAddr string
		wantSync bool
		wantStop time.Duration
	}{
		{name: "defaults", wantAddr: "127.0.0.1:8080", wantSync: true, wantStop: 30 * time.Second},
		{name: "file over defaults", file: file, wantAddr: "127.0.0.1:9001", wantSync: false, wantStop: 30 * time.Second},
		{
			name: "env over file", file: file,
			env:      append([]string{"GATEWAY_SERVER__ADDR=127.0.0.1:9002", "GATEWAY_STORAGE__SYNC=true"}, unrelated...),
			wantAddr: "127.0.0.1:9002", wantSync: true, wantStop: 30 * time.Second,
		},
		{
			name: "unchanged flags do not override", file: file,
			env:      []string{"GATEWAY_SERVER__ADDR=127.0.0.1:9002"},
			flags:    newFlags(),
			wantAddr: "127.0.0.1:9002", wantSync: false, wantStop: 30 * time.Second,
		},
		{
			name: "flags over env", file: file,
			env:      []string{"GATEWAY_SERVER__ADDR=127.0.0.1:9002", "GATEWAY_STORAGE__SYNC=false"},
			flags:    newFlags("--addr=127.0.0.1:9003", "--sync", "--shutdown-timeout=2s", "--unmapped=x"),
			wantAddr: "127.0.0.1:9003", wantSync: true, wantStop: 2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{}, tt.env...)
			c, err := Load(LoadOptions{File: tt.file, Env: env, Flags: tt.flags, FlagKeys: flagKeys})
			require.NoError(t, err)
			require.Equal(t, tt.wantAddr, c.Server.Addr)
			require.Equal(t, tt.wantSync, c.Storage.Sync)
			require.Equal(t, tt.wantStop, c.Server.ShutdownTimeout)
		})
	}
}

func TestLoad_envTypes(t *testing.T) {
	env := []string{
		"GATEWAY_SERVER__MAX_BODY_BYTES=2048",
		"GATEWAY_SERVER__READ_TIMEOUT=45s",
		"GATEWAY_INGEST__MAX_BATCH_EVENTS=10",
		"GATEWAY_STORAGE__MEMORY=true",
		"GATEWAY_LOG__FORMAT=json",
	}
	c, err := Load(LoadOptions{Env: env})
	require.NoError(t, err)
	require.Equal(t, int64(2048), c.Server.MaxBodyBytes)
	require.Equal(t, 45*time.Second, c.Server.ReadTimeout)
	require.Equal(t, 10, c.Ingest.MaxBatchEvents)
	require.Equal(t, true, c.Storage.Memory)
	require.Equal(t, "json", c.Log.Format)
}

// TestLoad_emptyRetrySchedule: "retry_schedule: []" is an empty list (no
// retries), told apart from a key left empty or out (the default), both
// for delivery.retry_schedule and a webhook's own.
func TestLoad_emptyRetrySchedule(t *testing.T) {
	hook := func(id, extra string) string {
		return "  - id: " + id + "\n    url: https://example.com/" + id + "\n    event_types: [\">\"]\n" + extra
	}
	cfg, err := Load(LoadOptions{File: writeConfig(t, "delivery:\n  retry_schedule: []\nwebhooks:\n"+
		hook("empty", "    retry_schedule: []\n")+hook("blank", "    retry_schedule:\n")+hook("absent", "")), FileRequired: true, Env: []string{}})
	require.NoError(t, err)
	require.True(t, cfg.Delivery.RetrySchedule != nil && len(cfg.Delivery.RetrySchedule) == 0, "delivery.retry_schedule: want an empty list, got %#v", cfg.Delivery.RetrySchedule)
	empty := cfg.Webhooks[0].Spec().Delivery.RetrySchedule
	require.True(t, empty != nil && *empty != nil && len(*empty) == 0, "webhooks[0].retry_schedule: want an empty list, got %#v", empty)
	for _, w := range cfg.Webhooks[1:] {
		require.True(t, w.Spec().Delivery.RetrySchedule == nil, "%s: want no retry_schedule, got %#v", w.ID, w.Spec().Delivery.RetrySchedule)
	}

	cfg, err = Load(LoadOptions{File: writeConfig(t, "delivery:\n  retry_schedule:\n"), FileRequired: true, Env: []string{}})
	require.NoError(t, err)
	require.Equal(t, len(DefaultRetrySchedule()), len(cfg.Delivery.RetrySchedule), "a blank delivery.retry_schedule keeps the default")
}

// A value of the wrong type is reported by its key and the type it needs,
// never by the value itself: it may be a secret in the wrong place
// (GATEWAY_AUTH__API_KEYS=<key> once printed the key).
func TestLoad_typeErrorsNeverEchoValues(t *testing.T) {
	const secret = "s3cr3t-value-0123456789"
	tests := []struct {
		name string
		yaml string
		env  []string
		want string // the problem, which must not contain secret
	}{
		{
			name: "env: a key where the key list goes",
			env:  []string{"GATEWAY_AUTH__API_KEYS=" + secret},
			want: "auth.api_keys[0]: must be a mapping of keys to values, got a string",
		},
		{
			name: "env: a key where a number goes",
			env:  []string{"GATEWAY_SERVER__MAX_BODY_BYTES=" + secret},
			want: "server.max_body_bytes: must be a whole number, got a string",
		},
		{
			name: "env: a key where a duration goes",
			env:  []string{"GATEWAY_SERVER__READ_TIMEOUT=" + secret},
			want: `server.read_timeout: must be a duration such as "30s", "5m" or "24h", got a string`,
		},
		{
			name: "yaml: a key where the key list goes",
			yaml: "auth:\n  api_keys:\n    - " + secret + "\n",
			want: "auth.api_keys[0]: must be a mapping of keys to values, got a string",
		},
		{
			name: "yaml: a key where a bool goes",
			yaml: "storage:\n  sync: " + secret + "\n",
			want: "storage.sync: must be true or false, got a string",
		},
		{
			name: "yaml: a number where a string goes is fine, a list is not",
			yaml: "auth:\n  api_keys:\n    - name: a\n      key: [" + secret + "]\n      scopes: [admin]\n",
			want: "auth.api_keys[0].key: must be a string, got a list",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = []string{}
			}
			yaml := tt.yaml
			if yaml == "" {
				yaml = "server:\n  addr: 127.0.0.1:8080\n"
			}
			_, err := Load(LoadOptions{File: writeConfig(t, yaml), FileRequired: true, Env: env})
			require.True(t, err != nil, "want an error")
			require.False(t, strings.Contains(err.Error(), secret), "the error echoes the value:\n%v", err)
			require.True(t, strings.Contains(err.Error(), tt.want), "want the problem %q in:\n%v", tt.want, err)
		})
	}
}
