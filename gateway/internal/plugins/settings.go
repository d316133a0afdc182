package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Settings are what an API upload says about its module: the config file's
// plugin fields without path and source. They are saved under P/<name>
// with the module's hash.
type Settings struct {
	Name       string            `json:"name"`
	Kind       string            `json:"kind,omitempty"`
	EventTypes []string          `json:"event_types,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
	SecretKeys []string          `json:"secret_keys,omitempty"`
	Limits     LimitSettings     `json:"limits"`
	OnError    string            `json:"on_error,omitempty"`
	Stage      string            `json:"stage,omitempty"`
	// SHA256, if set on upload, pins the module: other bytes are refused.
	// The saved settings always hold the module's hash.
	SHA256 string `json:"sha256,omitempty"`
}

// LimitSettings are config.PluginLimits with the timeout as a Go duration
// string ("250ms").
type LimitSettings struct {
	MemoryMiB int    `json:"memory_mib,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	Instances int    `json:"instances,omitempty"`
	KVBytes   int64  `json:"kv_bytes,omitempty"`
}

// plugin validates s, with the rules of the config file's plugins section
// (config.Plugin.Validate), and returns it as a config plugin; problems
// wrap ErrInvalid.
func (s Settings) plugin() (config.Plugin, error) {
	var timeout time.Duration
	if t := s.Limits.Timeout; t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return config.Plugin{}, fmt.Errorf("%w: limits.timeout: must be a duration up to %s, got %q", ErrInvalid, config.MaxPluginTimeout, t)
		}
		timeout = d
	}
	l := s.Limits
	p := config.Plugin{
		Name: s.Name, SHA256: s.SHA256, Kind: s.Kind, EventTypes: s.EventTypes, Config: maps.Clone(s.Config), SecretKeys: s.SecretKeys,
		Limits:  config.PluginLimits{MemoryMiB: l.MemoryMiB, Timeout: timeout, Instances: l.Instances, KVBytes: l.KVBytes},
		OnError: s.OnError, Stage: s.Stage,
	}
	var verr *config.ValidationError
	if err := p.Validate(); errors.As(err, &verr) {
		msgs := make([]string, len(verr.Problems))
		for i, pr := range verr.Problems {
			msgs[i] = pr.String()
		}
		return config.Plugin{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(msgs, "; "))
	}
	return p, nil
}

// encodeSettings checks the pin and returns the settings to save: s with
// SHA256 set to the module's hash.
func encodeSettings(s Settings, wasm []byte) ([]byte, error) {
	sum := sha256.Sum256(wasm)
	hash := hex.EncodeToString(sum[:])
	if s.SHA256 != "" && !strings.EqualFold(s.SHA256, hash) {
		return nil, fmt.Errorf("%w: sha256: the module's is %s, but the settings pin %s", ErrInvalid, hash, s.SHA256)
	}
	s.SHA256 = hash
	return json.Marshal(s)
}

// decodeSettings reads saved settings back into a config plugin.
func decodeSettings(b []byte) (config.Plugin, error) {
	var s Settings
	if err := json.Unmarshal(b, &s); err != nil {
		return config.Plugin{}, fmt.Errorf("decode saved settings: %w", err)
	}
	return s.plugin()
}

// settingsHash returns the module hash recorded in saved settings.
func settingsHash(b []byte) (string, error) {
	var s struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("decode saved settings: %w", err)
	}
	return strings.ToLower(s.SHA256), nil
}

// usesModule reports whether saved settings name the module hash.
func usesModule(settings []byte, hash string) bool {
	h, err := settingsHash(settings)
	return err == nil && h == hash
}

// Info describes a loaded plugin for the API.
type Info struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	SHA256     string   `json:"sha256"`
	EventTypes []string `json:"event_types"`
	// Config shows secret values as a hint only (see maskConfig).
	Config     map[string]string `json:"config"`
	SecretKeys []string          `json:"secret_keys,omitempty"`
	Stage      string            `json:"stage"`
	OnError    string            `json:"on_error"`
	Limits     LimitSettings     `json:"limits"`
	// ManagedBy is "config" or "api".
	ManagedBy string           `json:"managed_by"`
	Stats     Stats            `json:"stats"`
	Metrics   map[string]int64 `json:"metrics"`
}

func info(l *loaded) Info {
	lim := l.plugin.Limits()
	stage := l.cfg.Stage
	if stage == "" && l.plugin.Kind() == "filter" {
		stage = "dispatch"
	}
	types := l.stage.Patterns.Strings()
	return Info{
		Name: l.cfg.Name, Kind: string(l.plugin.Kind()), SHA256: l.plugin.Hash(), EventTypes: types,
		Config: maskConfig(l.cfg.Config, l.cfg.SecretKeys), SecretKeys: l.cfg.SecretKeys,
		Stage: stage, OnError: l.stage.OnError, ManagedBy: l.managedBy,
		Limits: LimitSettings{
			MemoryMiB: int(lim.MemoryPages / 16), Timeout: lim.CallTimeout.String(), Instances: lim.PoolSize,
			KVBytes: kvBytes(l.cfg.Limits.KVBytes),
		},
		Stats: stats(l.plugin.Stats()), Metrics: l.plugin.Metrics(),
	}
}

// secretWords mark a config key as secret by its name.
var secretWords = []string{"secret", "token", "password", "passwd", "key", "salt", "credential", "private"}

// maskConfig returns a plugin's config as the API shows it: the value of a
// key that looks secret by name, or that secretKeys lists, becomes a hint
// as webhook header values do (webhook.HeaderHint: "…" and its last four
// characters; "…" alone for a value under 16 characters, whose end would
// give too much away). The plugin itself always gets the real values.
func maskConfig(cfg map[string]string, secretKeys []string) map[string]string {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if secretKey(k, secretKeys) {
			v = webhook.HeaderHint(v)
		}
		out[k] = v
	}
	return out
}

func secretKey(k string, secretKeys []string) bool {
	if slices.Contains(secretKeys, k) {
		return true
	}
	lk := strings.ToLower(k)
	return slices.ContainsFunc(secretWords, func(w string) bool { return strings.Contains(lk, w) })
}

func kvBytes(n int64) int64 {
	if n == 0 {
		return defaultKVBytes
	}
	return n
}

// Stats are the host's counters for one loaded plugin version.
type Stats struct {
	Calls        int64 `json:"calls"`
	Crashes      int64 `json:"crashes"`
	Timeouts     int64 `json:"timeouts"`
	Busy         int64 `json:"busy"`
	PluginErrors int64 `json:"plugin_errors"`
	LogsDropped  int64 `json:"logs_dropped"`
	Instances    int   `json:"instances"`
}

func stats(s wasmhost.Stats) Stats {
	return Stats{Calls: s.Calls, Crashes: s.Crashes, Timeouts: s.Timeouts, Busy: s.Busy, PluginErrors: s.PluginErrors, LogsDropped: s.LogsDropped, Instances: s.Instances}
}
