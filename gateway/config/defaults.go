package config

import (
	"reflect"
	"time"

	"github.com/eventgw/gateway/gateway/internal/jsonstrict"
)

// Default values that other packages may want to refer to.
const (
	DefaultAddr         = "127.0.0.1:8080"
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	// MaxMaxBodyBytes is the largest server.max_body_bytes Validate accepts.
	MaxMaxBodyBytes = 64 << 20 // 64 MiB
	// MaxBatchEvents is the largest ingest.max_batch_events Validate accepts.
	MaxBatchEvents = 1000
	// DefaultMaxJSONDepth and MaxMaxJSONDepth bound ingest.max_json_depth.
	DefaultMaxJSONDepth = jsonstrict.DefaultMaxDepth // 64
	MaxMaxJSONDepth     = 1000
	// DefaultMemoryLimit is server.memory_limit.
	DefaultMemoryLimit = 384 << 20 // 384 MiB
	// MinMemoryLimit is the smallest server.memory_limit other than off:
	// below it the garbage collector would run all the time.
	MinMemoryLimit = 32 << 20
	// DefaultMaxPendingBytes is ingest.max_pending_bytes.
	DefaultMaxPendingBytes = 64 << 20 // 64 MiB
)

// Defaults returns the configuration used for every key that no file,
// environment variable or flag sets. It is a fresh value on every call.
func Defaults() Config {
	return Config{
		Server: Server{
			Addr:              DefaultAddr,
			MaxBodyBytes:      DefaultMaxBodyBytes,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   30 * time.Second,
			MemoryLimit:       DefaultMemoryLimit,
		},
		Storage: Storage{
			Path:   "./data",
			Sync:   true,
			Memory: false,
		},
		Ingest: Ingest{
			IdempotencyWindow: 24 * time.Hour,
			MaxBatchEvents:    MaxBatchEvents,
			MaxJSONDepth:      DefaultMaxJSONDepth,
			MaxPendingBytes:   DefaultMaxPendingBytes,
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		Delivery: defaultDelivery(),
		PluginLimits: GlobalPluginLimits{
			MaxMemoryMiB: DefaultPluginMaxMemoryMiB,
		},
	}
}

// defaultsMap returns Defaults as the nested map[string]any that koanf
// holds, keyed by koanf tags. Nil pointers, slices and maps are left out, so
// that they stay "not set".
func defaultsMap() map[string]any {
	return structToMap(reflect.ValueOf(Defaults()))
}

func structToMap(v reflect.Value) map[string]any {
	out := make(map[string]any)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get(tagName)
		if key == "" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Struct:
			out[key] = structToMap(fv)
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			if fv.IsNil() {
				continue
			}
			out[key] = fv.Interface()
		default:
			out[key] = fv.Interface()
		}
	}
	return out
}
