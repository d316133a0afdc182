package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/egress"
	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Limits enforced by Validate.
const (
	MinAPIKeyLen         = 16
	MinIdempotencyWindow = time.Minute
	MaxIdempotencyWindow = 30 * 24 * time.Hour
)

// Problem is one thing wrong with a configuration. Path is the key path
// ("server.addr", "webhooks[1].url"); Message says what is wrong with it.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// ValidationError lists every problem found in a configuration, sorted by
// key path in the order Config declares its fields.
type ValidationError struct {
	Problems []Problem
}

// Error returns the problems one per line, as "path: message".
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems.
type problems []Problem

func (ps *problems) add(path, msg string) { *ps = append(*ps, Problem{path, msg}) }

func (ps *problems) addf(path, format string, args ...any) {
	ps.add(path, fmt.Sprintf(format, args...))
}

// err returns nil or a *ValidationError holding ps, sorted.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	out := append([]Problem(nil), ps...)
	sortProblems(out)
	return &ValidationError{Problems: out}
}

// Validate checks every rule and returns nil or a *ValidationError listing
// every problem found.
//
// Validate expects key_env and secret_env to be resolved, as Load does:
// where KeyEnv (SecretEnv) is set, Key (Secret) holds the value read from
// that variable, and an empty value means the variable was not set. Load
// itself reports a file that sets both key and key_env.
//
// storage.path is ignored, not rejected, when storage.memory is true, so
// that a memory config does not have to clear the default path.
func (c *Config) Validate() error {
	return c.problems().err()
}

func (c *Config) problems() problems {
	var ps problems
	c.Server.validate(&ps)
	c.Storage.validate(&ps)
	c.Ingest.validate(&ps)
	c.validateAuth(&ps)
	c.Log.validate(&ps)
	c.Delivery.validate(&ps)
	plugins := validatePlugins(&ps, c.Plugins)
	c.PluginLimits.validate(&ps, c.Plugins)
	validateWebhooks(&ps, c.Webhooks, c.Delivery)
	for i, w := range c.Webhooks {
		if w.Transform == "" {
			continue
		}
		// A transform that does not load would hold the webhook's
		// deliveries (they fail closed), so the file must say it is one.
		j, ok := plugins[w.Transform]
		path := fmt.Sprintf("webhooks[%d].transform", i)
		switch {
		case !ok:
			ps.addf(path, "no plugin named %q in plugins", w.Transform)
		case c.Plugins[j].Kind == "":
			ps.addf(path, "plugin %q does not declare kind: transform; a webhook's transform must (plugins[%d].kind)", w.Transform, j)
		case c.Plugins[j].Kind != "transform":
			ps.addf(path, "plugin %q is a %s, not a transform", w.Transform, c.Plugins[j].Kind)
		}
	}
	return ps
}

func (s *Server) validate(ps *problems) {
	if _, err := splitAddr(s.Addr); err != nil {
		ps.add("server.addr", err.Error())
	}
	switch {
	case s.MaxBodyBytes <= 0:
		ps.addf("server.max_body_bytes", "must be greater than 0, got %d", s.MaxBodyBytes)
	case s.MaxBodyBytes > MaxMaxBodyBytes:
		ps.addf("server.max_body_bytes", "must be at most %d (64 MiB), got %d", MaxMaxBodyBytes, s.MaxBodyBytes)
	}
	for _, d := range []struct {
		key string
		val time.Duration
	}{
		{"read_header_timeout", s.ReadHeaderTimeout},
		{"read_timeout", s.ReadTimeout},
		{"write_timeout", s.WriteTimeout},
		{"idle_timeout", s.IdleTimeout},
	} {
		if d.val <= 0 {
			ps.addf("server."+d.key, "must be greater than 0, got %s", d.val)
		}
	}
	if s.ShutdownTimeout < 0 {
		ps.addf("server.shutdown_timeout", "must not be negative, got %s", s.ShutdownTimeout)
	}
}

// splitAddr checks that addr is host:port with a numeric port and returns
// the host.
func splitAddr(addr string) (host string, err error) {
	const want = "must be host:port with a numeric port 0-65535, such as \"127.0.0.1:8080\" or \":8080\""
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s, got %q", want, addr)
	}
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return "", fmt.Errorf("%s, got %q", want, addr)
	}
	if n, _ := strconv.Atoi(port); n > 65535 {
		return "", fmt.Errorf("%s, got %q", want, addr)
	}
	return host, nil
}

// isLoopback reports whether host names only the local machine. An empty
// host listens on every interface, so it is not loopback.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Storage) validate(ps *problems) {
	if !s.Memory && strings.TrimSpace(s.Path) == "" {
		ps.add("storage.path", "is required unless storage.memory is true")
	}
	if s.MinFreeBytes < -1 {
		ps.add("storage.min_free_bytes", "must be 0 (the default: 256 MiB or 2% of the disk), a number of bytes, or -1 to turn the check off")
	}
}

func (in *Ingest) validate(ps *problems) {
	if w := in.IdempotencyWindow; w < MinIdempotencyWindow || w > MaxIdempotencyWindow {
		ps.addf("ingest.idempotency_window", "must be between 1m and 720h (30 days), got %s", w)
	}
	if n := in.MaxBatchEvents; n < 1 || n > MaxBatchEvents {
		ps.addf("ingest.max_batch_events", "must be between 1 and %d, got %d", MaxBatchEvents, n)
	}
	if n := in.MaxJSONDepth; n < 1 || n > MaxMaxJSONDepth {
		ps.addf("ingest.max_json_depth", "must be between 1 and %d, got %d", MaxMaxJSONDepth, n)
	}
}

func (c *Config) validateAuth(ps *problems) {
	keys := c.Auth.APIKeys
	if len(keys) == 0 {
		if host, err := splitAddr(c.Server.Addr); err == nil && !isLoopback(host) {
			ps.addf("auth.api_keys", "required when server.addr (%s) is not a loopback address; an open API may only listen on loopback", c.Server.Addr)
		}
		return
	}
	names := make(map[string]int)
	tokens := make(map[string]int)
	for i, k := range keys {
		p := fmt.Sprintf("auth.api_keys[%d]", i)
		switch name := strings.TrimSpace(k.Name); {
		case name == "":
			ps.add(p+".name", "is required: it names the key in logs")
		default:
			if j, dup := names[name]; dup {
				ps.addf(p+".name", "%q is already used by auth.api_keys[%d]; names must be unique", name, j)
			} else {
				names[name] = i
			}
		}
		keyPath, what := p+".key", "the key"
		if k.KeyEnv != "" {
			keyPath, what = p+".key_env", "the value of "+k.KeyEnv
		}
		switch {
		case k.Key == "" && k.KeyEnv == "":
			ps.add(p+".key", "is required, or key_env (preferred: it keeps the secret out of the file)")
		case k.Key == "":
			ps.addf(keyPath, "environment variable %s is not set or is empty", k.KeyEnv)
		case len(k.Key) < MinAPIKeyLen:
			ps.addf(keyPath, "%s must be at least %d characters: short keys are guessable (try `openssl rand -hex 32`)", what, MinAPIKeyLen)
		default:
			if j, dup := tokens[k.Key]; dup {
				ps.addf(keyPath, "%s is the same as the key of auth.api_keys[%d]; every key must be unique", what, j)
			} else {
				tokens[k.Key] = i
			}
		}
		validateScopes(ps, p+".scopes", k.Scopes)
	}
}

func validateScopes(ps *problems, path string, scopes []string) {
	if len(scopes) == 0 {
		ps.addf(path, "must list at least one of %q or %q", ScopePublish, ScopeAdmin)
		return
	}
	seen := make(map[string]bool)
	for i, s := range scopes {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case s != ScopePublish && s != ScopeAdmin:
			ps.addf(p, "unknown scope %q; use %q or %q", s, ScopePublish, ScopeAdmin)
		case seen[s]:
			ps.addf(p, "%q is listed twice", s)
		}
		seen[s] = true
	}
}

func (l *Log) validate(ps *problems) {
	switch strings.ToLower(l.Level) {
	case "debug", "info", "warn", "error":
	default:
		ps.addf("log.level", "must be one of debug, info, warn or error, got %q", l.Level)
	}
	switch strings.ToLower(l.Format) {
	case "text", "json":
	default:
		ps.addf("log.format", "must be text or json, got %q", l.Format)
	}
}

func validateWebhooks(ps *problems, hooks []Webhook, d Delivery) {
	// The same guard as the API: a URL with a literal blocked IP is refused.
	policy, perr := egress.NewPolicy(d.AllowPrivate, d.AllowedCIDRs)
	ids := make(map[string]int)
	for i, w := range hooks {
		p := fmt.Sprintf("webhooks[%d]", i)
		if err := event.ValidateID(w.ID); err != nil {
			if w.ID == "" {
				ps.add(p+".id", "is required: it identifies the webhook across restarts")
			} else {
				ps.add(p+".id", err.Error())
			}
		} else if j, dup := ids[w.ID]; dup {
			ps.addf(p+".id", "%q is already used by webhooks[%d]; ids must be unique", w.ID, j)
		} else {
			ids[w.ID] = i
		}
		if w.SecretEnv != "" && w.Secret == "" {
			ps.addf(p+".secret_env", "environment variable %s is not set or is empty", w.SecretEnv)
		}
		if perr == nil && webhook.ValidateURL(w.URL) == nil {
			if err := policy.CheckURL(w.URL); err != nil {
				ps.add(p+".url", err.Error())
			}
		}
		for _, wp := range w.Spec().Validate(true) {
			path, msg := p+"."+wp.Field, wp.Message
			if wp.Field == "secret" && w.SecretEnv != "" {
				path, msg = p+".secret_env", "the value of "+w.SecretEnv+" "+msg
			}
			ps.add(path, msg)
		}
	}
}

// Spec returns w as a webhook.Spec, as the API would receive it, leaving out
// fields the file did not set.
func (w Webhook) Spec() webhook.Spec {
	var s webhook.Spec
	if w.URL != "" {
		s.URL = &w.URL
	}
	if w.EventTypes != nil {
		s.EventTypes = &w.EventTypes
	}
	if w.Description != "" {
		s.Description = &w.Description
	}
	if w.Secret != "" {
		s.Secret = &w.Secret
	}
	if w.Headers != nil {
		s.Headers = &w.Headers
	}
	s.Enabled = w.Enabled
	if w.MaxInFlight != 0 {
		s.Delivery.MaxInFlight = &w.MaxInFlight
	}
	if w.RateLimit != 0 {
		s.Delivery.RateLimit = &w.RateLimit
	}
	if w.RetrySchedule != nil {
		rs := webhook.Durations(w.RetrySchedule)
		s.Delivery.RetrySchedule = &rs
	}
	s.Delivery.Ordered = &w.Ordered
	if w.Transform != "" {
		s.Delivery.Transform = &w.Transform
	}
	return s
}
