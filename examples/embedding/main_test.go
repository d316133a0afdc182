package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// TestRun runs the example's main logic on a loopback listener, publishes
// an event over the HTTP API and checks that the in-process subscriber
// printed it.
func TestRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	out := &gwtest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, ln, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	gwtest.Eventually(t, "/readyz to answer 200", func() bool {
		resp, err := gwtest.Client.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var receipt struct{ ID string }
	gwtest.Do(t, http.MethodPost, base+"/v1/events",
		`{"type":"order.paid","data":{"order":1001,"amount":4200}}`, http.StatusAccepted, &receipt)
	want := "subscriber got " + receipt.ID + " order.paid "
	gwtest.Eventually(t, "the subscriber to print the event", func() bool {
		return strings.Contains(out.String(), want)
	})
	if !strings.Contains(out.String(), `"amount":4200`) {
		t.Errorf("the subscriber's line lacks the data: %s", out)
	}
}
