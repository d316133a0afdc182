package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/eventgw/gateway/sdk"
)

// redacted replaces the value of a field on the redaction list.
const redacted = "[redacted]"

// config is the parsed config.
type config struct {
	fields []string
	redact map[string]bool
	rate   float64
	level  sdk.Level
}

// loadConfig parses the config read through get (sdk.Config in the plugin).
func loadConfig(get func(string) (string, bool)) (*config, error) {
	c := &config{rate: 1, level: sdk.LevelInfo, redact: map[string]bool{}}
	v, _ := get("fields")
	c.fields = splitList(v)
	v, _ = get("redact")
	for _, p := range splitList(v) {
		c.redact[p] = true
	}
	if v, ok := get("rate"); ok && strings.TrimSpace(v) != "" {
		r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("logger: rate %q: want a number from 0 to 1", v)
		}
		c.rate = r
	}
	if v, ok := get("level"); ok && strings.TrimSpace(v) != "" {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "debug":
			c.level = sdk.LevelDebug
		case "info":
			c.level = sdk.LevelInfo
		case "warn":
			c.level = sdk.LevelWarn
		case "error":
			c.level = sdk.LevelError
		default:
			return nil, fmt.Errorf("logger: level %q: want debug, info, warn or error", v)
		}
	}
	return c, nil
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// sampled reports whether the event with this id is logged. The decision is
// a hash of the id, not a random draw, so it is the same on every instance
// and every retry, and a rate of 0.1 logs about one event in ten.
func (c *config) sampled(id string) bool {
	switch {
	case c.rate >= 1:
		return true
	case c.rate <= 0:
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(mix(h.Sum64())>>11)/(1<<53) < c.rate
}

// mix is the splitmix64 finalizer: FNV's high bits barely change between
// ids that differ in their last characters, and sampling uses the high bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// line is the event's log line: a JSON object with id, type, source (if
// any), time (if any), webhook_id (if any) and, under "fields", each
// configured path that exists in the data. An object or array value is
// kept as JSON; any other value is a string (e.Get's text: numbers and
// booleans as their literals). A path on the redaction list shows as
// "[redacted]", and so does any path under it, and any object or array
// that holds a path on the list.
func (c *config) line(e *sdk.Event) string {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	writeString(&b, e.ID())
	b.WriteString(`,"type":`)
	writeString(&b, e.Type())
	if s := e.Source(); s != "" {
		b.WriteString(`,"source":`)
		writeString(&b, s)
	}
	if t := e.Time(); !t.IsZero() {
		b.WriteString(`,"time":`)
		writeString(&b, t.Format(time.RFC3339Nano))
	}
	if w := e.WebhookID(); w != "" {
		b.WriteString(`,"webhook_id":`)
		writeString(&b, w)
	}
	n := 0
	for _, path := range c.fields {
		v, ok := e.Get(path)
		if !ok {
			continue
		}
		if n == 0 {
			b.WriteString(`,"fields":{`)
		} else {
			b.WriteByte(',')
		}
		n++
		writeString(&b, path)
		b.WriteByte(':')
		switch {
		case c.isRedacted(path):
			writeString(&b, redacted)
		case (strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[")) && json.Valid([]byte(v)):
			if c.redactsUnder(path) {
				// A redacted path sits inside the value: show only that
				// the value was there.
				writeString(&b, redacted)
			} else {
				b.WriteString(v)
			}
		default:
			writeString(&b, v)
		}
	}
	if n > 0 {
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}

// isRedacted reports whether path or one of its parents is on the list.
func (c *config) isRedacted(path string) bool {
	for {
		if c.redact[path] {
			return true
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return false
		}
		path = path[:i]
	}
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// redactsUnder reports whether a path on the list lies inside path.
func (c *config) redactsUnder(path string) bool {
	for p := range c.redact {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}
