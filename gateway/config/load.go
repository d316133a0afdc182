package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvPrefix starts every environment variable that Load reads.
const EnvPrefix = "GATEWAY_"

// LoadOptions says where Load reads the configuration from.
type LoadOptions struct {
	// File is the YAML file to read. Empty means no file.
	File string
	// FileRequired makes a missing File an error. Otherwise a missing file
	// means "use defaults", which lets the quickstart run without one.
	FileRequired bool
	// Env is the environment as "KEY=value" pairs. Nil means os.Environ().
	// It supplies both GATEWAY_* overrides and the variables named by
	// key_env and secret_env.
	Env []string
	// Flags are the command-line flags. Only flags the user set (Changed)
	// and that appear in FlagKeys override the other sources.
	Flags *pflag.FlagSet
	// FlagKeys maps a flag name to the config key it sets, such as
	// "addr" -> "server.addr".
	FlagKeys map[string]string
}

// Load reads the configuration from defaults, opts.File, the environment
// and opts.Flags, in that order of increasing precedence, resolves key_env
// and secret_env, and validates the result.
//
// A file that cannot be read or parsed gives an error naming it. Everything
// else that is wrong (unknown keys, values of the wrong type, and every rule
// of Validate) is returned together as one *ValidationError.
func Load(opts LoadOptions) (*Config, error) {
	environ := opts.Env
	if environ == nil {
		environ = os.Environ()
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaultsMap(), ""), nil); err != nil {
		return nil, fmt.Errorf("config: load defaults: %w", err)
	}
	if opts.File != "" {
		if err := loadFile(k, opts.File, opts.FileRequired); err != nil {
			return nil, err
		}
	}
	envOpt := env.Opt{
		Prefix:        EnvPrefix,
		TransformFunc: envKey(sections()),
		EnvironFunc:   func() []string { return environ },
	}
	if err := k.Load(env.Provider(".", envOpt), nil); err != nil {
		return nil, fmt.Errorf("config: load environment: %w", err)
	}
	if opts.Flags != nil {
		p := posflag.ProviderWithFlag(opts.Flags, ".", nil, flagKey(opts.Flags, opts.FlagKeys))
		if err := k.Load(p, nil); err != nil {
			return nil, fmt.Errorf("config: load flags: %w", err)
		}
	}

	raw := k.Raw()
	ps := unknownKeys(raw)
	// Decoding on top of Defaults keeps the default of a key written
	// without a value ("server:" followed only by comments).
	cfg := Defaults()
	failed := decode(&ps, k, raw, &cfg)
	resolveSecrets(&ps, &cfg, lookupEnv(environ))
	for _, p := range cfg.problems() {
		// A value that failed to decode is already reported; the zero
		// value left in its place would only add noise.
		if !slices.ContainsFunc(failed, func(f string) bool { return within(p.Path, f) }) {
			ps = append(ps, p)
		}
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func loadFile(k *koanf.Koanf, path string, required bool) error {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if !required {
				return nil
			}
			return fmt.Errorf("config: read %s: %w", path, fs.ErrNotExist)
		}
		return fmt.Errorf("config: %w", err)
	}
	if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("config: %w", err)
		}
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	return nil
}

// envKey maps GATEWAY_SERVER__MAX_BODY_BYTES to server.max_body_bytes. It
// drops (returns "") variables that do not name a key inside a known
// section, such as GATEWAY_ADMIN_KEY.
func envKey(secs map[string]bool) func(k, v string) (string, any) {
	return func(k, v string) (string, any) {
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(k, EnvPrefix)), "__")
		if len(parts) < 2 || !secs[parts[0]] || slices.Contains(parts, "") {
			return "", nil
		}
		return strings.Join(parts, "."), v
	}
}

// flagKey maps a changed flag listed in keys to its config key and value.
func flagKey(flags *pflag.FlagSet, keys map[string]string) func(*pflag.Flag) (string, any) {
	return func(f *pflag.Flag) (string, any) {
		key, ok := keys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		return key, posflag.FlagVal(flags, f)
	}
}

// lookupEnv turns "K=V" pairs into a map; a later pair wins, as it does for
// the koanf env provider.
func lookupEnv(environ []string) map[string]string {
	out := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// resolveSecrets fills Key from KeyEnv and Secret from SecretEnv. An unset
// variable leaves the field empty, which Validate reports at the *_env key.
func resolveSecrets(ps *problems, c *Config, env map[string]string) {
	for i := range c.Auth.APIKeys {
		k := &c.Auth.APIKeys[i]
		if k.KeyEnv == "" {
			continue
		}
		if k.Key != "" {
			ps.addf(fmt.Sprintf("auth.api_keys[%d]", i), "set key or key_env, not both")
			k.KeyEnv = ""
			continue
		}
		k.Key = env[k.KeyEnv]
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.SecretEnv == "" {
			continue
		}
		if w.Secret != "" {
			ps.addf(fmt.Sprintf("webhooks[%d]", i), "set secret or secret_env, not both")
			w.SecretEnv = ""
			continue
		}
		w.Secret = env[w.SecretEnv]
	}
}

// within reports whether path is prefix or lies below it.
func within(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// decode unmarshals k onto cfg and reports each value that does not fit its
// field as a problem at that field's path. It returns those paths.
func decode(ps *problems, k *koanf.Koanf, raw map[string]any, cfg *Config) []string {
	dc := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(durationHook, wholeNumberHook),
		// Weak typing lets environment strings such as "false" and "2048"
		// decode into bools and numbers.
		WeaklyTypedInput: true,
		TagName:          tagName,
	}
	err := k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{DecoderConfig: dc})
	var failed []string
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *mapstructure.DecodeError:
			if _, ok := e.Unwrap().(interface{ Unwrap() []error }); ok {
				walk(e.Unwrap())
				return
			}
			path := mapKeysAsPath(e.Name())
			ps.add(path, typeMessage(e.Unwrap(), raw, path))
			failed = append(failed, path)
		case interface{ Unwrap() []error }:
			for _, e := range e.Unwrap() {
				walk(e)
			}
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
				return
			}
			ps.add("config", err.Error())
		}
	}
	if err != nil {
		walk(err)
	}
	return failed
}

// mapKeysAsPath rewrites mapstructure's "headers[X-Id]" as "headers.X-Id",
// keeping list indexes such as "webhooks[1]".
func mapKeysAsPath(name string) string {
	var b strings.Builder
	for name != "" {
		i := strings.IndexByte(name, '[')
		j := strings.IndexByte(name[i+1:], ']')
		if i < 0 || j < 0 {
			b.WriteString(name)
			break
		}
		b.WriteString(name[:i])
		key := name[i+1 : i+1+j]
		if _, err := strconv.Atoi(key); err == nil {
			b.WriteString("[" + key + "]")
		} else {
			b.WriteString("." + key)
		}
		name = name[i+j+2:]
	}
	return b.String()
}

var durationType = reflect.TypeFor[time.Duration]()

const wantDuration = `must be a duration such as "30s", "5m" or "24h"`

// durationHook decodes durations from strings ("30s") and rejects bare
// numbers, which time.Duration would otherwise read as nanoseconds.
func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	switch v := data.(type) {
	case time.Duration:
		return v, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return nil, &hookError{fmt.Sprintf("%s, got %s", wantDuration, describe(v))}
		}
		return d, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		if reflect.ValueOf(v).IsZero() {
			return time.Duration(0), nil
		}
		return nil, &hookError{wantDuration + "; got a number without a unit"}
	}
	return nil, &hookError{fmt.Sprintf("%s, got %s", wantDuration, describe(data))}
}

// hookError is what the decode hooks return; its message is final.
type hookError struct{ msg string }

func (e *hookError) Error() string { return e.msg }

// wholeNumberHook rejects fractions and out-of-range numbers for integer
// fields, which a plain conversion would truncate or wrap around.
func wholeNumberHook(_, to reflect.Type, data any) (any, error) {
	f, ok := data.(float64)
	if !ok || to == durationType {
		return data, nil
	}
	var lo, hi float64
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi = -math.Ldexp(1, to.Bits()-1), math.Ldexp(1, to.Bits()-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		lo, hi = 0, math.Ldexp(1, to.Bits())
	default:
		return data, nil
	}
	if f != math.Trunc(f) {
		return nil, &hookError{want(to) + ", got a fraction"}
	}
	if f < lo || f >= hi {
		return nil, &hookError{want(to) + ", got a number out of range"}
	}
	return data, nil
}

// typeMessage explains a mapstructure error about the value at path.
func typeMessage(err error, raw map[string]any, path string) string {
	var (
		pe *mapstructure.ParseError
		ue *mapstructure.UnconvertibleTypeError
		he *hookError
	)
	switch {
	case errors.As(err, &he):
		return he.msg
	case errors.As(err, &pe):
		return want(pe.Expected.Type()) + ", got " + describe(pe.Value)
	case errors.As(err, &ue):
		return want(ue.Expected.Type()) + ", got " + describe(ue.Value)
	}
	if t, v, ok := lookupPath(raw, path); ok {
		return want(t) + ", got " + describe(v)
	}
	// mapstructure's own messages quote the value; keep them out.
	return "has a value of the wrong type"
}

// lookupPath returns the Config field type at path and the raw value there.
func lookupPath(raw map[string]any, path string) (reflect.Type, any, bool) {
	t, v := configType, any(raw)
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		m, ok := v.(map[string]any)
		if !ok || t.Kind() != reflect.Struct {
			return nil, nil, false
		}
		f, ok := fieldByKey(t, name)
		if !ok {
			return nil, nil, false
		}
		t, v = f.typ, m[name]
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if err != nil || t.Kind() != reflect.Slice {
				return nil, nil, false
			}
			switch list, ok := v.([]any); {
			case ok && n >= 0 && n < len(list):
				v = list[n]
			case ok || n != 0:
				return nil, nil, false
			}
			// Otherwise weak decoding lifted a single value into a list.
			t = t.Elem()
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return t, v, true
}

func want(t reflect.Type) string {
	if t == durationType {
		return wantDuration
	}
	switch t.Kind() {
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "must be a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "must be a number"
	case reflect.String:
		return "must be a string"
	case reflect.Slice, reflect.Array:
		return "must be a list"
	case reflect.Map, reflect.Struct:
		return "must be a mapping of keys to values"
	case reflect.Pointer:
		return want(t.Elem())
	}
	return "must be a " + t.String()
}

// describe names the kind of a raw config value for a message ("a
// string", "a list"), never the value itself: a value of the wrong type may
// be a secret in the wrong place (GATEWAY_AUTH__API_KEYS=<key>), and
// messages reach logs and terminals.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case bool:
		return "true or false"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, time.Duration:
		return "a whole number"
	case float32, float64:
		return "a number"
	}
	return "a value of another type"
}
