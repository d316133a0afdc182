package webhook

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/eventgw/gateway/gateway/event"
)

// Limits on registration fields.
const (
	MaxURLLen         = 2048
	MaxDescriptionLen = 1024
	MaxEventTypes     = 100
	MaxHeaders        = 50
	MaxHeaderValueLen = 4096
)

// Problem is one validation failure, naming the field it concerns.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Field + ": " + p.Message }

// Problems is a list of validation failures, in field order.
type Problems []Problem

func (ps *Problems) add(field, msg string) { *ps = append(*ps, Problem{field, msg}) }

func (ps *Problems) addf(field, format string, args ...any) {
	ps.add(field, fmt.Sprintf(format, args...))
}

// ValidateURL checks that raw is an absolute http or https URL of at most
// MaxURLLen characters, with a host and without a user:password part.
func ValidateURL(raw string) error {
	const want = "must be an absolute http or https URL"
	if raw == "" {
		return fmt.Errorf("%s, got an empty string", want)
	}
	if len(raw) > MaxURLLen {
		return fmt.Errorf("is longer than %d characters", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return fmt.Errorf("%s", want)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s, got scheme %q", want, u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%s with a host", want)
	}
	if u.User != nil {
		return fmt.Errorf("must not contain a user:password part; put credentials in headers instead")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("must have a port from 1 to 65535, got %q", p)
		}
	}
	return nil
}

func validatePatterns(types []string) Problems {
	var ps Problems
	if len(types) == 0 {
		ps.add("event_types", "must list at least one pattern, e.g. \"link.*\" or \">\"")
	}
	if len(types) > MaxEventTypes {
		ps.addf("event_types", "lists %d patterns, more than the limit of %d", len(types), MaxEventTypes)
	}
	for i, t := range types {
		if _, err := event.ParsePattern(t); err != nil {
			ps.addf(fmt.Sprintf("event_types[%d]", i), "%v", err)
		}
	}
	return ps
}

// reservedHeaders are set by the deliverer or by net/http, or act on the
// connection rather than the request, and cannot be set per webhook. The
// hop-by-hop headers are those of RFC 9110 section 7.6.1 and RFC 9112, and
// the proxy headers, since deliveries never go through a proxy.
var reservedHeaders = map[string]string{
	"content-type":        "is set by the gateway (application/json)",
	"content-length":      "is set by the gateway",
	"host":                "is taken from the webhook url",
	"transfer-encoding":   "is set by the gateway",
	"user-agent":          "is set by the gateway",
	"expect":              "would make every delivery wait for a 100 Continue; the gateway sends the body at once",
	"connection":          "is a hop-by-hop header; the gateway's HTTP client manages the connection",
	"keep-alive":          "is a hop-by-hop header; the gateway's HTTP client manages the connection",
	"proxy-connection":    "is a hop-by-hop header; the gateway's HTTP client manages the connection",
	"upgrade":             "is a hop-by-hop header; deliveries are plain requests",
	"te":                  "is a hop-by-hop header; the gateway's HTTP client sets it",
	"trailer":             "is a hop-by-hop header; deliveries send no trailers",
	"proxy-authenticate":  "is a proxy header; deliveries never go through a proxy",
	"proxy-authorization": "is a proxy header; deliveries never go through a proxy",
}

// ReservedHeader reports whether a webhook may not set the header name
// (any case): a hop-by-hop, proxy or Expect header, one the gateway sets,
// or a webhook-* signing header.
func ReservedHeader(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "webhook-") || reservedHeaders[lower] != ""
}

func validateHeaders(h map[string]string) Problems {
	var ps Problems
	if len(h) > MaxHeaders {
		ps.addf("headers", "has %d entries, more than the limit of %d", len(h), MaxHeaders)
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		field := "headers." + name
		lower := strings.ToLower(name)
		switch {
		case !isToken(name):
			ps.add(field, "is not a valid HTTP header name")
		case strings.HasPrefix(lower, "webhook-"):
			ps.add(field, "webhook-* headers are reserved for Standard Webhooks signing")
		case reservedHeaders[lower] != "":
			ps.add(field, "is reserved: it "+reservedHeaders[lower])
		}
		v := h[name]
		if len(v) > MaxHeaderValueLen {
			ps.addf(field, "value is longer than %d characters", MaxHeaderValueLen)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			ps.add(field, "value must not contain CR, LF or NUL")
		}
	}
	return ps
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
