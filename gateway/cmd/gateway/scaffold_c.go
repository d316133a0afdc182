package main

// The C project templates of `plugin new --lang c`: src/NAME.c beside a
// copy of gw.h, built by `gateway plugin build` with clang.

const cFilter = `/* {{.Name}}: a gateway filter plugin in C, built with gw.h (the gateway's
 * C SDK). It denies an event whose data.amount is over the max_amount
 * config value, and allows the rest. */
#include <stdio.h>

#include "gw.h"

/* number parses s[0:n] as a whole JSON number ("250", "-1.5e3") into *out;
 * anything else (hex, "nan", "inf", spaces, trailing text) is not one. */
static int number(const char *s, size_t n, double *out) {
    char buf[64];
    if (!s || n == 0 || n >= sizeof buf) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return 0;
    }
    if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    *out = strtod(buf, &end);
    return *end == 0 && *out - *out == 0; /* whole, and finite */
}

GW_FILTER(filter) {
    size_t limit_len = 0;
    char *limit = gw_config_get("max_amount", &limit_len);
    if (!limit) return GW_ALLOW;
    double max;
    if (!number(limit, limit_len, &max)) {
        gw_log(GW_LEVEL_WARN, "max_amount is not a number");
        free(limit);
        return GW_ALLOW;
    }
    size_t n = 0; /* one field, without decoding the rest */
    const char *amount = gw_json_field(data, data_len, "amount", &n);
    double a;
    int deny = number(amount, n, &a) && a > max;
    if (deny) {
        char reason[256];
        snprintf(reason, sizeof reason, "amount %.*s is over %s", (int)n, amount, limit);
        gw_reason_set(reason);
    }
    free(limit);
    return deny ? GW_DENY : GW_ALLOW;
}
`

const cTransform = `/* {{.Name}}: a gateway transform plugin in C, built with gw.h (the gateway's
 * C SDK). It adds a "tagged_by" field, the tag config value (default
 * "{{.Name}}"), to the event's data, which must be a JSON object. */
#include <stdio.h>

#include "gw.h"

static int space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

GW_TRANSFORM(transform) {
    const char *p = data, *e = data + data_len;
    while (p < e && space(*p)) p++;
    while (e > p && space(e[-1])) e--;
    if (e - p < 2 || *p != '{' || e[-1] != '}') {
        gw_log(GW_LEVEL_ERROR, "data is not a JSON object");
        return GW_RESULT_FAILED; /* a plugin error: the gateway applies on_error */
    }
    const char *body = p + 1;
    while (body < e - 1 && space(*body)) body++;
    int empty = body == e - 1;

    char *tag = gw_config_get("tag", NULL);
    const char *t = tag ? tag : "{{.Name}}";
    size_t tl = strlen(t);
    char *out = (char *)malloc((size_t)(e - p) + 6 * tl + 32); /* \u00XX is 6 bytes */
    if (!out) { free(tag); return GW_RESULT_FAILED; }
    size_t n = (size_t)(e - 1 - p); /* the object without its closing brace */
    memcpy(out, p, n);
    if (!empty) out[n++] = ',';
    memcpy(out + n, "\"tagged_by\":\"", 13);
    n += 13;
    for (size_t i = 0; i < tl; i++) { /* a JSON string: escape quotes, backslashes, controls */
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20) {
            n += (size_t)snprintf(out + n, 7, "\\u%04x", c);
            continue;
        }
        if (c == '"' || c == '\\') out[n++] = '\\';
        out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n++] = '}';
    int32_t st = gw_output_set(out, n);
    free(out);
    free(tag);
    return st == GW_OK ? GW_REPLACED : GW_RESULT_FAILED;
}
`

const cObserver = `/* {{.Name}}: a gateway observer plugin in C, built with gw.h (the gateway's
 * C SDK). It logs one line per event and counts the events in the
 * "events" metric. */
#include <stdio.h>

#include "gw.h"

GW_OBSERVE(observe) {
    size_t tl = 0, il = 0;
    const char *type = gw_json_field(meta, meta_len, "type", &tl);
    const char *id = gw_json_field(meta, meta_len, "id", &il);
    char line[512];
    snprintf(line, sizeof line, "event %.*s %.*s", (int)tl, type ? type : "", (int)il, id ? id : "");
    gw_log(GW_LEVEL_INFO, line);
    gw_metric_add("events", 1);
    return GW_OBSERVE_OK;
}
`

// hostTest is the test of a C or AssemblyScript project: it builds the
// module with the gateway binary (plugin build) and runs it under the real
// host (plugin run --json), so the project's go.mod requires nothing.
const hostTest = `package plugin_test

// These tests build this plugin with the gateway binary (gateway plugin
// build) and run the module under the gateway's real host with gateway
// plugin run --json: the same wazero runtime, limits and gw_v1 host
// functions as the server, but a deadline generous enough for a busy
// machine, with a KV store in memory. They need the gateway binary on PATH.

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)
{{if eq .Kind "filter"}}
func TestFilter(t *testing.T) {
	wasm := build(t)
	if r := run(t, wasm, ` + "`" + `{"amount": 250}` + "`" + `, "max_amount=100"); r.Verdict != "deny" || r.Reason != "amount 250 is over 100" {
		t.Errorf("amount 250: got %+v, want a deny with a reason", r)
	}
	if r := run(t, wasm, ` + "`" + `{"amount": 50}` + "`" + `, "max_amount=100"); r.Verdict != "allow" {
		t.Errorf("amount 50: got %+v, want allow", r)
	}
}

func TestFilter_noConfigAllows(t *testing.T) {
	if r := run(t, build(t), ` + "`" + `{"amount": 1e9}` + "`" + `); r.Verdict != "allow" {
		t.Errorf("got %+v, want allow", r)
	}
}
{{- else if eq .Kind "transform"}}
func TestTransform(t *testing.T) {
	r := run(t, build(t), ` + "`" + `{"amount": 250}` + "`" + `, "tag=billing")
	if r.Action != "replaced" {
		t.Fatalf("got %+v, want replaced", r)
	}
	var out map[string]any
	if err := json.Unmarshal(r.Output, &out); err != nil {
		t.Fatal(err)
	}
	if out["tagged_by"] != "billing" || out["amount"] != 250.0 {
		t.Errorf("output %s, want amount 250 tagged by billing", r.Output)
	}
}

func TestTransform_notAnObject(t *testing.T) {
	if r := run(t, build(t), ` + "`" + `[1, 2]` + "`" + `); r.Error == "" {
		t.Errorf("got %+v, want a plugin error", r)
	}
}
{{- else}}
func TestObserve(t *testing.T) {
	r := run(t, build(t), ` + "`" + `{"amount": 250}` + "`" + `)
	if r.Error != "" {
		t.Fatalf("got %+v", r)
	}
	if len(r.Logs) != 1 || !strings.Contains(r.Logs[0].Msg, "payment.created") {
		t.Errorf("logs %+v, want one line naming the event type", r.Logs)
	}
	if n := r.Metrics["events"]; n != 1 {
		t.Errorf("events metric %d, want 1", n)
	}
}
{{- end}}

// result is what gateway plugin run --json reports of one call.
type result struct {
	Verdict string          // a filter's: allow, flag or deny
	Reason  string          // a filter's deny or flag reason
	Action  string          // a transform's: unchanged, replaced or drop
	Output  json.RawMessage // a transform's new data
	Error   string          // why the call failed, "" when it did not
	Logs    []struct{ Level, Msg string }
	Metrics map[string]int64
}

// build builds this plugin with gateway plugin build and returns the
// module's path.
func build(t *testing.T) string {
	t.Helper()
	wasm := filepath.Join(t.TempDir(), "{{.Name}}.wasm")
	gateway(t, nil, "plugin", "build", ".", "-o", wasm)
	return wasm
}

// run calls the module once on a payment.created event with data (JSON)
// and the config entries ("key=value").
func run(t *testing.T, wasm, data string, config ...string) result {
	t.Helper()
	event, err := json.Marshal(map[string]any{"id": "evt_test", "type": "payment.created", "data": json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	// A generous deadline (the server's is 50ms), so that a busy machine
	// cannot fail the test; a plugin that never returns still fails it.
	args := []string{"plugin", "run", wasm, "--event", "-", "--json", "--timeout", "10s"}
	for _, c := range config {
		args = append(args, "--config", c)
	}
	var r result
	if err := json.Unmarshal(gateway(t, event, args...), &r); err != nil {
		t.Fatalf("gateway plugin run --json: %v", err)
	}
	return r
}

// gateway runs the gateway binary with args and stdin, and returns its
// output.
func gateway(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("gateway")
	if err != nil {
		t.Fatalf("these tests run the gateway binary, which is not on PATH: put the gateway that wrote this project on PATH (%v)", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &stdout, &stderr
	// A plugin call that fails still prints its result, with "error".
	if err := cmd.Run(); err != nil && !(args[1] == "run" && json.Valid(stdout.Bytes())) {
		t.Fatalf("gateway %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}
`
