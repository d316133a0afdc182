package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/examples/internal/gwtest"
)

// TestLinkShortener runs the whole scenario against a real gateway: the
// receiver on loopback, a webhook registered through the API with the
// secret from its create answer, the shortener making a link and following
// it, and the receiver verifying and printing both events.
func TestLinkShortener(t *testing.T) {
	gw := gwtest.Start(t, "delivery:\n  allowed_cidrs: [127.0.0.0/8]\n  retry_schedule: [50ms, 100ms, 200ms]\n  shutdown_grace: 2s\n")

	recvLn := listen(t)
	var created struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	gwtest.Do(t, http.MethodPost, gw.URL+"/v1/webhooks",
		`{"url":"http://`+recvLn.Addr().String()+`/webhooks","event_types":["link.*"],"description":"link analytics"}`,
		http.StatusCreated, &created)
	if !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("the create answer has no secret: %+v", created)
	}
	received := &gwtest.Buffer{}
	start(t, "receiver", func(ctx context.Context) error { return runReceiver(ctx, recvLn, created.Secret, received) })

	shortLn := listen(t)
	published := &gwtest.Buffer{}
	start(t, "shortener", func(ctx context.Context) error { return runShortener(ctx, shortLn, gw.URL, published) })
	base := "http://" + shortLn.Addr().String()

	var link struct {
		Code     string `json:"code"`
		ShortURL string `json:"short_url"`
	}
	gwtest.Do(t, http.MethodPost, base+"/links", `{"url":"https://example.com/a/long/path"}`, http.StatusCreated, &link)
	noRedirect := &http.Client{
		Timeout:       gwtest.WaitLimit,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := noRedirect.Get(base + "/" + link.Code)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/a/long/path" {
		t.Fatalf("GET /%s: want a 302 to the long URL, got %s to %q", link.Code, resp.Status, resp.Header.Get("Location"))
	}

	for _, typ := range []string{"link.created", "link.clicked"} {
		gwtest.Eventually(t, "the receiver to verify "+typ, func() bool {
			return strings.Contains(received.String(), "verified "+typ+" evt_")
		})
	}
	lines := received.String()
	if !strings.Contains(lines, `"code":"`+link.Code+`"`) {
		t.Errorf("the receiver's lines lack the link's code %s:\n%s", link.Code, lines)
	}
	if strings.Contains(lines, "rejected") {
		t.Errorf("the receiver rejected a delivery from the gateway:\n%s", lines)
	}
	if p := published.String(); !strings.Contains(p, "published link.created evt_") || !strings.Contains(p, "published link.clicked evt_") {
		t.Errorf("the shortener did not publish both events:\n%s", p)
	}

	// A forged request is refused.
	forged, err := http.NewRequest(http.MethodPost, "http://"+recvLn.Addr().String()+"/webhooks",
		strings.NewReader(`{"type":"link.clicked","data":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	forged.Header.Set("webhook-id", "evt_forged")
	forged.Header.Set("webhook-timestamp", "1")
	forged.Header.Set("webhook-signature", "v1,AAAA")
	resp, err = gwtest.Client.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged delivery: want 401, got %s", resp.Status)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// start runs f until the test ends and checks that it returned cleanly.
func start(t *testing.T, name string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}
