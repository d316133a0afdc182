package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// TestFraudCheck runs the example's gateway.yaml, with the fraud plugin
// built from source, publishes the scripted payments with run and checks
// each verdict as GET /v1/events/{id} shows it.
func TestFraudCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fraud plugin from source")
	}
	fraud, err := filepath.Abs("../../plugins/fraud")
	if err != nil {
		t.Fatal(err)
	}
	gw := gwtest.StartFile(t, "gateway.yaml", func(yaml string) string {
		return strings.ReplaceAll(yaml, "../../plugins/fraud", fraud)
	})

	ctx, cancel := context.WithTimeout(context.Background(), gwtest.WaitLimit)
	defer cancel()
	out := &gwtest.Buffer{}
	results, err := run(ctx, gw.URL, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run printed:\n%s", out)

	want := map[string]struct{ status, outcome, reason string }{
		"ordinary":     {"dispatched", "allow", ""},
		"large":        {"dispatched", "flag", "amount 1500 above the flag threshold 1000"},
		"too large":    {"denied", "deny", "amount 25000 above the deny threshold 10000"},
		"blocked ip":   {"denied", "deny", "blocklisted ip: 203.0.113.7"},
		"allowlisted":  {"dispatched", "allow", ""},
		"card c9, 1st": {"dispatched", "allow", ""},
		"card c9, 3rd": {"dispatched", "allow", ""},
		"card c9, 4th": {"denied", "deny", "velocity: card_id c9 seen 4 times in 1m0s (limit 3)"},
	}
	seen := 0
	for _, r := range results {
		w, ok := want[r.Name]
		if !ok {
			continue
		}
		seen++
		if r.Status != w.status || len(r.Verdicts) != 1 {
			t.Errorf("%s: want status %s with one verdict, got %s with %+v", r.Name, w.status, r.Status, r.Verdicts)
			continue
		}
		v := r.Verdicts[0]
		if v.Plugin != "fraud" || v.Outcome != w.outcome || v.Reason != w.reason || v.Error != "" {
			t.Errorf("%s: want fraud: %s (%s), got %+v", r.Name, w.outcome, w.reason, v)
		}
	}
	if seen != len(want) {
		t.Errorf("checked %d payments, want %d", seen, len(want))
	}
	if !strings.Contains(out.String(), "fraud: deny (amount 25000 above the deny threshold 10000)") {
		t.Errorf("run's output lacks the deny line:\n%s", out)
	}
}
