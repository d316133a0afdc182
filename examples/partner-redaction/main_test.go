package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// TestPartnerRedaction runs the example's gateway.yaml, with the redact
// plugin built from source, against the example's receiver, publishes one
// order and compares the two copies.
func TestPartnerRedaction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the redact plugin from source")
	}
	redact, err := filepath.Abs("../../plugins/redact")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := &gwtest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})

	gw := gwtest.StartFile(t, "gateway.yaml", func(yaml string) string {
		yaml = strings.ReplaceAll(yaml, "../../plugins/redact", redact)
		return strings.ReplaceAll(yaml, "http://127.0.0.1:8003", "http://"+ln.Addr().String())
	})

	var receipt struct{ ID string }
	gwtest.Do(t, http.MethodPost, gw.URL+"/v1/events",
		`{"type":"order.paid","data":{"order":1001,"amount":4200,`+
			`"customer":{"email":"ann@example.com","phone":"+31612345678","country":"NL"},`+
			`"card":{"number":"4242424242424242","brand":"visa"}}}`,
		http.StatusAccepted, &receipt)

	copyOf := func(endpoint string) map[string]any {
		var body struct {
			ID   string         `json:"id"`
			Data map[string]any `json:"data"`
		}
		gwtest.Eventually(t, "the "+endpoint+" copy", func() bool {
			for line := range strings.Lines(out.String()) {
				name, payload, _ := strings.Cut(line, " got ")
				if strings.TrimSpace(name) == endpoint && json.Unmarshal([]byte(payload), &body) == nil && body.ID == receipt.ID {
					return true
				}
			}
			return false
		})
		return body.Data
	}
	internal, partner := copyOf("internal"), copyOf("partner")

	ic, pc := internal["customer"].(map[string]any), partner["customer"].(map[string]any)
	if ic["email"] != "ann@example.com" || ic["phone"] != "+31612345678" {
		t.Errorf("the internal copy lost personal data: %v", internal)
	}
	if _, ok := pc["email"]; ok {
		t.Errorf("the partner copy still has customer.email: %v", partner)
	}
	if pc["phone"] != "********5678" || pc["country"] != "NL" {
		t.Errorf("the partner copy's customer: want the phone masked and the country kept, got %v", pc)
	}
	if card := partner["card"].(map[string]any); card["number"] != "************4242" || card["brand"] != "visa" {
		t.Errorf("the partner copy's card: want the number masked and the brand kept, got %v", card)
	}
	if partner["amount"] != float64(4200) {
		t.Errorf("the partner copy lost the amount: %v", partner)
	}
}
