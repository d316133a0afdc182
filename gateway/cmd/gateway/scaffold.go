package main

import "github.com/eventgw/gateway/sdk/abi"

// scaffoldFile is one file `plugin new` writes, a text/template run on
// scaffoldData.
type scaffoldFile struct {
	name, text string
}

// scaffoldData fills the templates.
type scaffoldData struct {
	Name   string
	Kind   abi.Kind
	Module string // module path of the go.mod written, "" when none
	// Require and Replace fill the go.mod.
	Require string
	Replace string
}

// goScaffold returns the files of a Go project of kind k. The handler of
// each kind reads its config in the call, not in init, so sdktest.SetConfig
// reaches it (see sdk/README.md).
func goScaffold(k abi.Kind) []scaffoldFile {
	files := []scaffoldFile{{"README.md", readmeTmpl}}
	switch k {
	case abi.KindFilter:
		files = append(files, scaffoldFile{"main.go", filterMain}, scaffoldFile{"main_test.go", filterTest})
	case abi.KindTransform:
		files = append(files, scaffoldFile{"main.go", transformMain}, scaffoldFile{"main_test.go", transformTest})
	case abi.KindObserver:
		files = append(files, scaffoldFile{"main.go", observerMain}, scaffoldFile{"main_test.go", observerTest})
	}
	return files
}

const goModTmpl = `module {{.Module}}

go 1.26

require github.com/eventgw/gateway {{.Require}}
{{- if .Replace}}

replace github.com/eventgw/gateway => {{.Replace}}
{{- end}}
`

const filterMain = `// Command {{.Name}} is a gateway filter plugin: it denies an event whose
// data.amount is over the max_amount config value and allows the rest.
package main

import (
	"strconv"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() { sdk.Filter(filter) }

func filter(e *sdk.Event) sdk.Verdict {
	limit, ok := sdk.Config("max_amount")
	if !ok {
		return sdk.Allow()
	}
	maxAmount, err := strconv.ParseFloat(limit, 64)
	if err != nil {
		sdk.Warn("max_amount is not a number: " + limit)
		return sdk.Allow()
	}
	amount, _ := e.Get("amount") // one field, without decoding the rest
	if a, err := strconv.ParseFloat(amount, 64); err == nil && a > maxAmount {
		return sdk.Deny("amount " + amount + " is over " + limit)
	}
	return sdk.Allow()
}
`

const filterTest = `package main

import (
	"testing"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func TestFilter(t *testing.T) {
	sdktest.Reset()
	sdktest.SetConfig("max_amount", "100")
	if r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `)); !r.Denied() {
		t.Errorf("amount 250: got %v, want a deny", r)
	}
	if r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `{"amount": 50}` + "`" + `)); !r.Allowed() || r.Flagged() {
		t.Errorf("amount 50: got %v, want allow", r)
	}
}

func TestFilter_noConfigAllows(t *testing.T) {
	sdktest.Reset()
	if r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `{"amount": 1e9}` + "`" + `)); !r.Allowed() {
		t.Errorf("got %v, want allow", r)
	}
}
`

const transformMain = `// Command {{.Name}} is a gateway transform plugin: it adds a "tagged_by"
// field, the tag config value (default "{{.Name}}"), to the event's data.
package main

import (
	"encoding/json"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() { sdk.Transform(transform) }

func transform(e *sdk.Event) ([]byte, error) {
	var data map[string]any
	if err := e.Decode(&data); err != nil {
		return nil, err // a plugin error: the gateway applies on_error
	}
	tag, ok := sdk.Config("tag")
	if !ok {
		tag = "{{.Name}}"
	}
	data["tagged_by"] = tag
	return json.Marshal(data)
}
`

const transformTest = `package main

import (
	"encoding/json"
	"testing"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func TestTransform(t *testing.T) {
	sdktest.Reset()
	sdktest.SetConfig("tag", "billing")
	r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `))
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
	sdktest.Reset()
	if r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `[1, 2]` + "`" + `)); !r.Failed() {
		t.Errorf("got %v, want a plugin error", r)
	}
}
`

const observerMain = `// Command {{.Name}} is a gateway observer plugin: it logs one line per
// event and counts the events in the "events" metric.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() { sdk.Observe(observe) }

func observe(e *sdk.Event) error {
	sdk.Info("event " + e.Type() + " " + e.ID())
	sdk.MetricAdd("events", 1)
	return nil
}
`

const observerTest = `package main

import (
	"strings"
	"testing"

	"github.com/eventgw/gateway/sdk/sdktest"
)

func TestObserve(t *testing.T) {
	sdktest.Reset()
	r := sdktest.Run(sdktest.NewEvent("payment.created", ` + "`" + `{"amount": 250}` + "`" + `))
	if r.Failed() {
		t.Fatalf("got %v", r)
	}
	logs := sdktest.Logs()
	if len(logs) != 1 || !strings.Contains(logs[0].Msg, "payment.created") {
		t.Errorf("logs %v, want one line naming the event type", logs)
	}
	if n := sdktest.Metric("events"); n != 1 {
		t.Errorf("events metric %d, want 1", n)
	}
}
`

const readmeTmpl = `# {{.Name}}

A gateway {{.Kind}} plugin, written in Go with the gateway's SDK
(github.com/eventgw/gateway/sdk).
{{- if eq .Kind "filter"}} It denies an event whose ` + "`data.amount`" + ` is over the
` + "`max_amount`" + ` config value.
{{- else if eq .Kind "transform"}} It adds a ` + "`tagged_by`" + ` field (config ` + "`tag`" + `,
default ` + "`{{.Name}}`" + `) to the event's data.
{{- else}} It logs one line per event and counts events in the ` + "`events`" + ` metric.
{{- end}}

## Test

` + "```sh" + `
go test .
` + "```" + `

The tests run the handler natively with ` + "`sdk/sdktest`" + `: a fake host with
config, KV, logs and metrics.

## Build

` + "```sh" + `
gateway plugin build . -o {{.Name}}.wasm
# or, without the gateway binary:
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o {{.Name}}.wasm .
` + "```" + `

## Try it under the real host

` + "```sh" + `
echo '{"type": "payment.created", "data": {"amount": 250}}' > event.json
gateway plugin run {{.Name}}.wasm --event event.json
{{- if eq .Kind "filter"}} --config max_amount=100{{end}}
{{- if eq .Kind "transform"}} --config tag=billing{{end}}
` + "```" + `

## Use it

` + "```yaml" + `
plugins:
  - name: {{.Name}}
    path: {{.Name}}.wasm      # or source: <this directory>, built by the gateway
    kind: {{.Kind}}
{{- if ne .Kind "transform"}}
    event_types: ["payment.>"]
{{- end}}
{{- if eq .Kind "filter"}}
    config:
      max_amount: "100"
{{- else if eq .Kind "transform"}}
    config:
      tag: billing
{{- end}}
` + "```" + `
{{- if eq .Kind "transform"}}

A transform without ` + "`event_types`" + ` runs for the webhooks that name it in
their ` + "`transform`" + ` field.
{{- end}}
{{- if .Module}}

## go.mod

The project is its own module, ` + "`{{.Module}}`" + `, requiring
` + "`github.com/eventgw/gateway {{.Require}}`" + `.
{{- if .Replace}} A replace directive points it at
the checkout in ` + "`{{.Replace}}`" + `.{{end}}
{{- else}}

## go.mod

There is none: the project was created inside the gateway's own module,
whose go.mod it shares, like the first-party plugins in ` + "`plugins/`" + `.
{{- end}}
`
