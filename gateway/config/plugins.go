package config

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// Plugin is one WebAssembly plugin in the config file.
type Plugin struct {
	// Name identifies the plugin in logs, metrics, the API and webhooks'
	// transform field.
	Name string `koanf:"name"`
	// Path is a compiled .wasm file. Exactly one of Path and Source is set.
	Path string `koanf:"path"`
	// Source is the directory of a Go, C or AssemblyScript plugin; the
	// gateway builds it with the language's toolchain (as `gateway plugin
	// build` does) and caches the result by content hash.
	Source string `koanf:"source"`
	// SHA256, if set, pins the module: a different file is refused.
	SHA256 string `koanf:"sha256"`
	// Kind is observer, filter or transform; empty means "what the module
	// exports".
	Kind string `koanf:"kind"`
	// EventTypes selects the events the plugin sees. A transform without
	// event_types runs only for the webhooks that name it.
	EventTypes []string `koanf:"event_types"`
	// Config is handed to the plugin (config_get).
	Config map[string]string `koanf:"config"`
	// SecretKeys names config keys whose values the API shows as a hint
	// only, besides the keys that look secret by name (salt, secret, token,
	// password, key, credential, private).
	SecretKeys []string     `koanf:"secret_keys"`
	Limits     PluginLimits `koanf:"limits"`
	// OnError is what happens when the plugin fails: filters "allow" (fail
	// open, the default) or "deny" (fail closed); transforms "pass" (keep the
	// original, the default) or "drop".
	OnError string `koanf:"on_error"`
	// Stage "ingest" runs a filter before the 202 (a deny answers 403 and
	// stores nothing); the default "dispatch" runs it after the commit.
	Stage string `koanf:"stage"`
}

// PluginLimits bound one plugin. Zero values mean the defaults.
type PluginLimits struct {
	// MemoryMiB caps the plugin's linear memory (default 16).
	MemoryMiB int `koanf:"memory_mib"`
	// Timeout bounds one call (defaults: 50ms filters and transforms, 250ms
	// observers).
	Timeout time.Duration `koanf:"timeout"`
	// Instances caps the plugin's instance pool (default: the number of CPUs).
	Instances int `koanf:"instances"`
	// KVBytes caps the plugin's key-value store (default 16 MiB, at most
	// MaxPluginKVBytes).
	KVBytes int64 `koanf:"kv_bytes"`
}

// GlobalPluginLimits bound every plugin instance together, config and API
// plugins and dry runs alike.
type GlobalPluginLimits struct {
	// MaxMemoryMiB is the memory budget of all plugin instances (default
	// 1024): each instance reserves its plugin's limits.memory_mib before
	// it starts and gives it back when it closes. An instance that does not
	// fit is not started: the call fails as if the pool were busy, and an
	// upload or dry run answers 503. The issue that asked for it called it
	// plugins.max_memory; plugins is a list here, so the key lives beside it.
	MaxMemoryMiB int `koanf:"max_memory_mib"`
}

// DefaultPluginMaxMemoryMiB is plugin_limits.max_memory_mib's default.
const DefaultPluginMaxMemoryMiB = 1024

// MaxPluginBudgetMiB bounds plugin_limits.max_memory_mib (1 TiB).
const MaxPluginBudgetMiB = 1 << 20

// validate checks the budget, and that every plugin fits in it alone.
func (g GlobalPluginLimits) validate(ps *problems, plugins []Plugin) {
	if g.MaxMemoryMiB < 1 || g.MaxMemoryMiB > MaxPluginBudgetMiB {
		ps.addf("plugin_limits.max_memory_mib", "must be from 1 to %d, got %d", MaxPluginBudgetMiB, g.MaxMemoryMiB)
		return
	}
	for i, p := range plugins {
		if p.Limits.MemoryMiB > g.MaxMemoryMiB {
			ps.addf(fmt.Sprintf("plugins[%d].limits.memory_mib", i), "%d is more than plugin_limits.max_memory_mib (%d), the budget of all plugin instances together", p.Limits.MemoryMiB, g.MaxMemoryMiB)
		}
	}
}

// Limits the config accepts for plugins.
const (
	MaxPluginMemoryMiB = 4096
	MaxPluginTimeout   = 10 * time.Second
	MaxPluginInstances = 1024
	// MaxPluginKVBytes bounds limits.kv_bytes: a plugin's namespace lives in
	// the gateway's own store, and one plugin must not be able to fill the
	// disk that acked events need.
	MaxPluginKVBytes = 1 << 30
)

// validatePlugins adds the problems of the plugins section to ps and
// returns the index of each plugin by name (the last, for a duplicate).
func validatePlugins(ps *problems, plugins []Plugin) map[string]int {
	byName := make(map[string]int, len(plugins))
	for i, p := range plugins {
		path := fmt.Sprintf("plugins[%d]", i)
		p.validate(ps, path+".")
		if p.Name != "" && event.ValidateType(p.Name) == nil {
			if _, dup := byName[p.Name]; dup {
				ps.addf(path+".name", "%q is used by another plugin", p.Name)
			}
			byName[p.Name] = i
		}
		if (p.Path == "") == (p.Source == "") {
			ps.add(path, "needs exactly one of path (a .wasm file) or source (a Go, C or AssemblyScript plugin directory)")
		}
	}
	return byName
}

// Validate checks one plugin's fields as the plugins section of the config
// does, except path and source (a plugin uploaded through the API has
// neither) and the uniqueness of its name. It returns nil or a
// *ValidationError whose paths are the plugin's own keys ("kind",
// "limits.timeout").
func (p Plugin) Validate() error {
	var ps problems
	p.validate(&ps, "")
	return ps.err()
}

// validate adds the problems of p's own fields to ps, each key path
// prefixed with prefix.
func (p Plugin) validate(ps *problems, prefix string) {
	switch {
	case p.Name == "":
		ps.add(prefix+"name", "is required")
	case event.ValidateType(p.Name) != nil:
		ps.add(prefix+"name", "must be letters, digits, '_', '-' or '.' (it appears in metrics and URLs)")
	}
	if p.SHA256 != "" {
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 {
			ps.add(prefix+"sha256", "must be 64 hexadecimal characters")
		}
	}
	switch p.Kind {
	case "", "observer", "filter", "transform":
	default:
		ps.addf(prefix+"kind", "must be observer, filter or transform, got %q", p.Kind)
	}
	for j, t := range p.EventTypes {
		if _, err := event.ParsePattern(t); err != nil {
			ps.addf(fmt.Sprintf("%sevent_types[%d]", prefix, j), "%v", err)
		}
	}
	switch p.OnError {
	case "", "allow", "deny", "pass", "drop":
	default:
		ps.addf(prefix+"on_error", "must be allow or deny (filters), pass or drop (transforms), got %q", p.OnError)
	}
	if (p.OnError == "allow" || p.OnError == "deny") && p.Kind != "" && p.Kind != "filter" {
		ps.addf(prefix+"on_error", "%q applies to filters; this plugin is a %s", p.OnError, p.Kind)
	}
	if (p.OnError == "pass" || p.OnError == "drop") && p.Kind != "" && p.Kind != "transform" {
		ps.addf(prefix+"on_error", "%q applies to transforms; this plugin is a %s", p.OnError, p.Kind)
	}
	switch p.Stage {
	case "", "dispatch":
	case "ingest":
		if p.Kind != "filter" {
			ps.add(prefix+"stage", "ingest applies to filters only; set kind: filter")
		}
	default:
		ps.addf(prefix+"stage", "must be dispatch or ingest, got %q", p.Stage)
	}
	l := p.Limits
	if l.MemoryMiB < 0 || l.MemoryMiB > MaxPluginMemoryMiB {
		ps.addf(prefix+"limits.memory_mib", "must be from 1 to %d (0 means 16), got %d", MaxPluginMemoryMiB, l.MemoryMiB)
	}
	if l.Timeout < 0 || l.Timeout > MaxPluginTimeout {
		ps.addf(prefix+"limits.timeout", "must be at most %s, got %s", MaxPluginTimeout, l.Timeout)
	}
	if l.Instances < 0 || l.Instances > MaxPluginInstances {
		ps.addf(prefix+"limits.instances", "must be from 1 to %d (0 means the number of CPUs), got %d", MaxPluginInstances, l.Instances)
	}
	if l.KVBytes < 0 || l.KVBytes > MaxPluginKVBytes {
		ps.addf(prefix+"limits.kv_bytes", "must be from 1 to %d (1 GiB; 0 means 16 MiB), got %d", MaxPluginKVBytes, l.KVBytes)
	}
}
