// Package config owns the gateway's typed configuration: the Config struct,
// its defaults, loading it from a YAML file, the environment and command-line
// flags, and validating it.
//
// # Loading
//
// Load builds a fresh koanf instance for every call (there is no package
// state) and layers four sources, each overriding the one before:
//
//	defaults (Defaults)  <  YAML file  <  environment  <  flags
//
// Environment variables are named GATEWAY_<SECTION>__<KEY>, with "__"
// separating levels: GATEWAY_SERVER__ADDR sets server.addr and
// GATEWAY_STORAGE__SYNC=false sets storage.sync. Only variables whose first
// segment is a top-level section (server, storage, ingest, auth, log,
// webhooks) and which name a key inside it are read; anything else with the
// GATEWAY_ prefix, such as GATEWAY_ADMIN_KEY, is left alone, because
// operators use such names for the key_env and secret_env indirections.
// Flags override only when the user set them (pflag's Changed), and only
// those listed in LoadOptions.FlagKeys.
//
// A key written with no value ("server:" followed only by comments) is
// treated as not set and keeps its default.
//
// Secrets stay out of the file: auth.api_keys[].key_env and
// webhooks[].secret_env name environment variables that Load reads into Key
// and Secret.
//
// # Validation
//
// Load never stops at the first mistake. Unknown keys (with a "did you mean"
// suggestion), values of the wrong type and every rule in Validate are
// collected into one *ValidationError whose problems carry the key path
// ("server.addr", "webhooks[1].url", "auth.api_keys[0].key_env"), sorted in
// the order the keys are declared in Config. YAML syntax errors and
// unreadable files are plain errors naming the file.
//
// A value of the wrong type is reported by its key, the type the key needs
// and the kind of value found ("got a string"), never by the value: it may
// be a secret given to the wrong key, and the message reaches logs.
//
// # Concurrency
//
// A Config is a plain value. It is immutable after Load returns it: callers
// must not modify it, and then it is safe to share between goroutines. Load
// itself may be called concurrently.
package config
