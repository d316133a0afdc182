package config

import (
	"log/slog"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestDefaults_Validate(t *testing.T) {
	c := Defaults()
	require.NoError(t, c.Validate())
}

func TestConfig_Validate(t *testing.T) {
	key := func(name, token string, scopes ...string) APIKey {
		return APIKey{Name: name, Key: token, Scopes: scopes}
	}
	tests := []struct {
		name  string
		edit  func(c *Config)
		wants []string // nil: valid
	}{
		{name: "localhost without keys", edit: func(c *Config) { c.Server.Addr = "localhost:80" }},
		{name: "ipv6 loopback without keys", edit: func(c *Config) { c.Server.Addr = "[::1]:8080" }},
		{name: "127.0.0.0/8 without keys", edit: func(c *Config) { c.Server.Addr = "127.1.2.3:8080" }},
		{name: "port 0", edit: func(c *Config) { c.Server.Addr = "127.0.0.1:0" }},
		{name: "port 65535", edit: func(c *Config) { c.Server.Addr = "127.0.0.1:65535" }},
		{name: "memory ignores path", edit: func(c *Config) { c.Storage.Memory, c.Storage.Path = true, "" }},
		{name: "shutdown timeout 0", edit: func(c *Config) { c.Server.ShutdownTimeout = 0 }},
		{name: "upper-case log level", edit: func(c *Config) { c.Log.Level = "DEBUG" }},
		{name: "json depth 1", edit: func(c *Config) { c.Ingest.MaxJSONDepth = 1 }},
		{name: "json depth 0", edit: func(c *Config) { c.Ingest.MaxJSONDepth = 0 },
			wants: []string{"ingest.max_json_depth: must be between 1 and 1000, got 0"}},
		{name: "json depth 1001", edit: func(c *Config) { c.Ingest.MaxJSONDepth = 1001 },
			wants: []string{"ingest.max_json_depth: must be between 1 and 1000, got 1001"}},
		{
			name: "public with keys",
			edit: func(c *Config) {
				c.Server.Addr = "0.0.0.0:8080"
				c.Auth.APIKeys = []APIKey{key("a", "0123456789abcdef", ScopePublish, ScopeAdmin)}
			},
		},
		{
			name:  "hostname is not loopback",
			edit:  func(c *Config) { c.Server.Addr = "gateway.internal:8080" },
			wants: []string{"auth.api_keys: required when server.addr (gateway.internal:8080) is not a loopback address; an open API may only listen on loopback"},
		},
		{
			name:  "named port",
			edit:  func(c *Config) { c.Server.Addr = "127.0.0.1:http" },
			wants: []string{`server.addr: must be host:port with a numeric port 0-65535, such as "127.0.0.1:8080" or ":8080", got "127.0.0.1:http"`},
		},
		{
			name:  "body limit",
			edit:  func(c *Config) { c.Server.MaxBodyBytes = MaxMaxBodyBytes + 1 },
			wants: []string{"server.max_body_bytes: must be at most 67108864 (64 MiB), got 67108865"},
		},
		{
			name: "keys",
			edit: func(c *Config) {
				c.Auth.APIKeys = []APIKey{
					key("a", "0123456789abcdef", ScopePublish),
					key("a", "fedcba9876543210"),
					{Name: "b", KeyEnv: "B_KEY", Scopes: []string{ScopeAdmin}},
					{Name: "c", Scopes: []string{ScopeAdmin}},
				}
			},
			wants: []string{
				`auth.api_keys[1].name: "a" is already used by auth.api_keys[0]; names must be unique`,
				`auth.api_keys[1].scopes: must list at least one of "publish" or "admin"`,
				"auth.api_keys[2].key_env: environment variable B_KEY is not set or is empty",
				"auth.api_keys[3].key: is required, or key_env (preferred: it keeps the secret out of the file)",
			},
		},
		{
			name: "webhook secret_env unresolved",
			edit: func(c *Config) {
				c.Webhooks = []Webhook{{ID: "wh_a", URL: "https://example.com", EventTypes: []string{">"}, SecretEnv: "S"}}
			},
			wants: []string{"webhooks[0].secret_env: environment variable S is not set or is empty"},
		},
		{
			name: "webhook literal secret",
			edit: func(c *Config) {
				c.Webhooks = []Webhook{{ID: "wh_a", URL: "https://example.com", EventTypes: []string{">"}, Secret: "whsec_AAAA"}}
			},
			wants: []string{"webhooks[0].secret: must decode to 24 to 64 bytes, got 3"},
		},
		{
			name: "webhook missing id",
			edit: func(c *Config) {
				c.Webhooks = []Webhook{{URL: "https://example.com", EventTypes: []string{">"}}}
			},
			wants: []string{"webhooks[0].id: is required: it identifies the webhook across restarts"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.edit(&c)
			err := c.Validate()
			if tt.wants == nil {
				require.NoError(t, err)
				return
			}
			requireProblems(t, err, tt.wants)
		})
	}
}

func TestConfig_helpers(t *testing.T) {
	off := false
	c := Defaults()
	require.Equal(t, false, c.HasAuth())
	require.Equal(t, true, Webhook{}.IsEnabled())
	require.Equal(t, false, Webhook{Enabled: &off}.IsEnabled())
	for level, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "Error": slog.LevelError,
	} {
		c.Log.Level = level
		require.Equal(t, want, c.SlogLevel())
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ key, want string }{
		{"adrr", "addr"},
		{"Addr", "addr"},
		{"max_body_byte", "max_body_bytes"},
		{"port", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			require.Equal(t, tt.want, suggest(tt.key, configType.Field(0).Type))
		})
	}
}

func TestSortProblems(t *testing.T) {
	ps := []Problem{
		{"webhooks[10].url", "d"},
		{"webhooks[2].url", "c"},
		{"zzz", "e"},
		{"log.level", "b"},
		{"server.addr", "a1"},
		{"server.addr", "a2"},
		{"webhooks[2].id", "c0"},
	}
	sortProblems(ps)
	var got string
	for _, p := range ps {
		got += p.Message + " "
	}
	require.Equal(t, "a1 a2 b c0 c d e ", got)
}
