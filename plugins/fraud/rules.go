package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventgw/gateway/sdk"
	"github.com/eventgw/gateway/sdk/abi"
)

// defaultWindow is the velocity window when velocity_window is unset.
const defaultWindow = time.Minute

// listRule is one allow- or blocklist: the values at path that match.
// Values compare case-insensitively after trimming spaces.
type listRule struct {
	path   string
	values []string
}

func (l listRule) match(e *sdk.Event) (string, bool) {
	v, ok := e.Get(l.path)
	if !ok {
		return "", false
	}
	v = strings.TrimSpace(v)
	for _, want := range l.values {
		if strings.EqualFold(v, want) {
			return v, true
		}
	}
	return "", false
}

// rules is the parsed config.
type rules struct {
	allow []listRule
	block []listRule

	amountPath string
	flagAbove  float64 // 0: no flag threshold
	denyAbove  float64 // 0: no deny threshold

	velocityKey    string // data path; "" disables the velocity check
	velocityLimit  int64
	velocityWindow time.Duration
	velocityTypes  []string // type patterns; empty matches every type
}

// loadRules parses the config read through get (sdk.Config in the plugin).
// It reports the first bad value with its key.
func loadRules(get func(string) (string, bool)) (*rules, error) {
	r := &rules{amountPath: "amount", velocityWindow: defaultWindow}
	var err error
	if r.allow, err = loadLists(get, "allowlist", "allow_"); err != nil {
		return nil, err
	}
	if r.block, err = loadLists(get, "blocklist", "block_"); err != nil {
		return nil, err
	}
	if v, ok := get("amount_path"); ok && strings.TrimSpace(v) != "" {
		r.amountPath = strings.TrimSpace(v)
	}
	if r.flagAbove, err = amount(get, "flag_above"); err != nil {
		return nil, err
	}
	if r.denyAbove, err = amount(get, "deny_above"); err != nil {
		return nil, err
	}
	if v, ok := get("velocity_key"); ok {
		r.velocityKey = strings.TrimSpace(v)
	}
	if r.velocityKey == "" {
		return r, nil
	}
	v, ok := get("velocity_limit")
	if !ok {
		return nil, fmt.Errorf("velocity_key is set but velocity_limit is not")
	}
	if r.velocityLimit, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || r.velocityLimit < 1 {
		return nil, fmt.Errorf("velocity_limit %q: want a whole number of at least 1", v)
	}
	if v, ok := get("velocity_window"); ok && strings.TrimSpace(v) != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("velocity_window %q: want a duration of at least 1s, such as 1m", v)
		}
		r.velocityWindow = d
	}
	if v, ok := get("velocity_types"); ok {
		r.velocityTypes = splitList(v)
	}
	return r, nil
}

// loadLists reads the paths named in listKey (comma-separated) and, for
// each path, the values in prefix+path. The ABI cannot list config keys, so
// the paths must be named.
func loadLists(get func(string) (string, bool), listKey, prefix string) ([]listRule, error) {
	v, ok := get(listKey)
	if !ok {
		return nil, nil
	}
	var out []listRule
	for _, path := range splitList(v) {
		vals, ok := get(prefix + path)
		if !ok {
			return nil, fmt.Errorf("%s names %q but %s%s is not set", listKey, path, prefix, path)
		}
		out = append(out, listRule{path: path, values: splitList(vals)})
	}
	return out, nil
}

func amount(get func(string) (string, bool), key string) (float64, error) {
	v, ok := get(key)
	if !ok || strings.TrimSpace(v) == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive number", key, v)
	}
	return f, nil
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

// matchType reports whether typ matches pattern, in the gateway's
// NATS-style syntax: "*" is exactly one segment, a final ">" one or more.
func matchType(pattern, typ string) bool {
	ps, ts := strings.Split(pattern, "."), strings.Split(typ, ".")
	for i, p := range ps {
		if p == ">" && i == len(ps)-1 {
			return len(ts) > i
		}
		if i >= len(ts) || (p != "*" && p != ts[i]) {
			return false
		}
	}
	return len(ps) == len(ts)
}

// verdict is the outcome of the checks.
type verdict struct {
	deny, flag bool
	reason     string
}

// check runs the rules in order: allowlist (allow, nothing else runs),
// blocklists (deny), the deny threshold (deny), the velocity limit (deny;
// it counts every event that got this far), the flag threshold (flag).
func (r *rules) check(e *sdk.Event) verdict {
	for _, l := range r.allow {
		if v, ok := l.match(e); ok {
			sdk.Debug("fraud: " + l.path + " " + v + " is allowlisted")
			return verdict{}
		}
	}
	for _, l := range r.block {
		if v, ok := l.match(e); ok {
			return verdict{deny: true, reason: "blocklisted " + l.path + ": " + v}
		}
	}
	amt, hasAmount := r.amount(e)
	if hasAmount && r.denyAbove > 0 && amt > r.denyAbove {
		return verdict{deny: true, reason: fmt.Sprintf("amount %s above the deny threshold %s", num(amt), num(r.denyAbove))}
	}
	if v := r.velocity(e); v.deny {
		return v
	}
	if hasAmount && r.flagAbove > 0 && amt > r.flagAbove {
		return verdict{flag: true, reason: fmt.Sprintf("amount %s above the flag threshold %s", num(amt), num(r.flagAbove))}
	}
	return verdict{}
}

// amount returns the number at amountPath; a string holding a number
// counts too.
func (r *rules) amount(e *sdk.Event) (float64, bool) {
	v, ok := e.Get(r.amountPath)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

// velocity counts the event under its key value and denies it past the
// limit. Events of other types, or without the key, are not counted. If
// the KV store fails, KVIncr returns 0 and the check fails open.
func (r *rules) velocity(e *sdk.Event) verdict {
	if r.velocityKey == "" {
		return verdict{}
	}
	if len(r.velocityTypes) > 0 {
		matched := false
		for _, p := range r.velocityTypes {
			if matchType(p, e.Type()) {
				matched = true
				break
			}
		}
		if !matched {
			return verdict{}
		}
	}
	val, ok := e.Get(r.velocityKey)
	if !ok || val == "" {
		return verdict{}
	}
	n := sdk.KVIncr(velocityKVKey(r.velocityKey, val), 1, r.velocityWindow)
	if n > r.velocityLimit {
		return verdict{deny: true, reason: fmt.Sprintf("velocity: %s %s seen %d times in %s (limit %d)",
			r.velocityKey, val, n, r.velocityWindow, r.velocityLimit)}
	}
	return verdict{}
}

// velocityKVKey is the KV counter of one key value:
// "velocity:<path>=<value>", or "velocity:<path>#<sha256 of value>" when
// that would be longer than a KV key may be (abi.MaxKVKeyBytes).
func velocityKVKey(path, val string) string {
	k := "velocity:" + path + "=" + val
	if len(k) <= abi.MaxKVKeyBytes {
		return k
	}
	sum := sha256.Sum256([]byte(val))
	return "velocity:" + path + "#" + hex.EncodeToString(sum[:])
}

// num formats an amount without a trailing ".0".
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
