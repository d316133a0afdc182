// Command filter is examples/c-plugin/filter.c written with the Go SDK, for
// the by-language benchmarks (gateway/internal/wasmhost/lang_bench_test.go):
//
//   - data.country in config "blocked" (comma-separated, spaces around
//     entries ignored): Deny("country XX is blocked");
//   - data.amount, a number, above config "flag_above":
//     Flag("amount N is above flag_above M"), N and M as written;
//   - otherwise Allow.
//
// It reads the two fields with e.Get, as filter.c does with gw_json_field,
// and decodes nothing else. The differences from filter.c are at the edges:
// e.Get unescapes strings, and strconv.ParseFloat, unlike strtod, refuses
// leading spaces.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
package main

import (
	"strconv"
	"strings"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() {
	sdk.Filter(check)
}

func check(e *sdk.Event) sdk.Verdict {
	if country, ok := e.Get("country"); ok && country != "" {
		if blocked, ok := sdk.Config("blocked"); ok && inList(blocked, country) {
			if len(country) > 64 {
				country = country[:64]
			}
			return sdk.Deny("country " + country + " is blocked")
		}
	}
	amount, ok := e.Get("amount")
	if !ok {
		return sdk.Allow()
	}
	a, ok := parseNumber(amount)
	if !ok {
		return sdk.Allow()
	}
	limit, ok := sdk.Config("flag_above")
	if !ok {
		return sdk.Allow()
	}
	if m, ok := parseNumber(limit); ok && a > m {
		return sdk.Flag("amount " + amount + " is above flag_above " + limit)
	}
	return sdk.Allow()
}

// inList reports whether s is one of the comma-separated entries of list,
// each trimmed of spaces.
func inList(list, s string) bool {
	for list != "" {
		var entry string
		entry, list, _ = strings.Cut(list, ",")
		if strings.Trim(entry, " ") == s {
			return true
		}
	}
	return false
}

// parseNumber parses s as a whole number of under 64 bytes, as filter.c's
// parse_number does.
func parseNumber(s string) (float64, bool) {
	if s == "" || len(s) >= 64 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
