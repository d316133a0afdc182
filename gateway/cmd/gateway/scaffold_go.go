package main

// The Go project templates of `plugin new --lang go`: each handler reads
// its config in the call, not in init, so sdktest.SetConfig reaches it (see
// sdk/README.md), and its test runs natively with sdk/sdktest.

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
