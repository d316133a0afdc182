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
// module as plugin build does and runs it under the real host.
const hostTest = `package plugin_test

// These tests build this plugin as ` + "`gateway plugin build`" + ` does and run
// the module under the gateway's real host (gateway/plugintest: the same
// wazero runtime, limits and gw_v1 host functions as the server, but a
// deadline generous enough for a busy machine, with a real KV store on a
// temp dir).

import (
{{- if eq .Kind "transform"}}
	"encoding/json"
{{- end}}
{{- if eq .Kind "observer"}}
	"strings"
{{- end}}
	"testing"

	"github.com/eventgw/gateway/gateway/plugintest"
)
{{if eq .Kind "filter"}}
func TestFilter(t *testing.T) {
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{Config: map[string]string{"max_amount": "100"}})
	if r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `)); !r.Denied() || r.Reason != "amount 250 is over 100" {
		t.Errorf("amount 250: got %v, want a deny with a reason", r)
	}
	if r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `{"amount": 50}` + "`" + `)); !r.Allowed() || r.Flagged() {
		t.Errorf("amount 50: got %v, want allow", r)
	}
}

func TestFilter_noConfigAllows(t *testing.T) {
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{})
	if r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `{"amount": 1e9}` + "`" + `)); !r.Allowed() {
		t.Errorf("got %v, want allow", r)
	}
}
{{- else if eq .Kind "transform"}}
func TestTransform(t *testing.T) {
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{Config: map[string]string{"tag": "billing"}})
	r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `))
	if !r.Replaced() {
		t.Fatalf("got %v, want replaced", r)
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
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{})
	if r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `[1, 2]` + "`" + `)); !r.Failed() {
		t.Errorf("got %v, want a plugin error", r)
	}
}
{{- else}}
func TestObserve(t *testing.T) {
	p := plugintest.Load(t, plugintest.Build(t, "."), plugintest.Options{})
	r := p.Run(plugintest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `))
	if r.Failed() {
		t.Fatalf("got %v", r)
	}
	if len(r.Logs) != 1 || !strings.Contains(r.Logs[0].Msg, "payment.created") {
		t.Errorf("logs %v, want one line naming the event type", r.Logs)
	}
	if n := p.Metrics()["events"]; n != 1 {
		t.Errorf("events metric %d, want 1", n)
	}
}
{{- end}}
`
