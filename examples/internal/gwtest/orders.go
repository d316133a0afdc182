package gwtest

import "testing"

// Verdict is one plugin's decision on an event, as GET /v1/events/{id}
// shows it.
type Verdict struct {
	Plugin  string `json:"plugin"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// Record is an event as GET /v1/events/{id} shows it.
type Record struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Verdicts []Verdict `json:"verdicts"`
}

// CheckOrderFilter publishes a blocked, a large and an ordinary
// order.created event to gw and checks each status and verdict against
// the behaviour of the examples' small order filter, which c-plugin and
// assemblyscript-plugin implement in their languages, loaded as plugin
// with config blocked "KP, IR" and flag_above "1000".
func CheckOrderFilter(t *testing.T, gw *Gateway, plugin string) {
	t.Helper()
	cases := []struct {
		name, data              string
		status, outcome, reason string
	}{
		{"blocked country", `{"country":"IR","amount":20}`, "denied", "deny", "country IR is blocked"},
		{"large amount", `{"country":"FR","amount":2500}`, "dispatched", "flag", "amount 2500 is above flag_above 1000"},
		{"ordinary", `{"country":"FR","amount":25}`, "dispatched", "allow", ""},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		var r Record
		Do(t, "POST", gw.URL+"/v1/events", `{"type":"order.created","data":`+c.data+`}`, 202, &r)
		if r.ID == "" {
			t.Fatalf("%s: the publish answer has no id", c.name)
		}
		ids[i] = r.ID
	}
	for i, c := range cases {
		var r Record
		Eventually(t, "a verdict on "+c.name, func() bool {
			r = Record{}
			Do(t, "GET", gw.URL+"/v1/events/"+ids[i], "", 200, &r)
			return r.Status != "pending"
		})
		if r.Status != c.status || len(r.Verdicts) != 1 {
			t.Errorf("%s: want status %s with one verdict, got %s with %+v", c.name, c.status, r.Status, r.Verdicts)
			continue
		}
		v := r.Verdicts[0]
		if v.Plugin != plugin || v.Outcome != c.outcome || v.Reason != c.reason || v.Error != "" {
			t.Errorf("%s: want %s: %s (%q), got %+v", c.name, plugin, c.outcome, c.reason, v)
		}
	}
}
