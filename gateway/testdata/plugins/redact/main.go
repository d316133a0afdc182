// Command redact is a test transform plugin: it replaces the data with a
// copy that has no "email" field.
package main

import (
	"encoding/json"

	"github.com/eventgw/gateway/sdk"
)

func main() {}

func init() {
	sdk.Transform(func(e *sdk.Event) ([]byte, error) {
		var m map[string]any
		if err := e.Decode(&m); err != nil {
			return nil, err
		}
		if _, ok := m["email"]; !ok {
			return nil, nil
		}
		delete(m, "email")
		m["redacted_for"] = e.WebhookID()
		return json.Marshal(m)
	})
}
