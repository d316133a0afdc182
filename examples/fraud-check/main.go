// Command fraud-check publishes a scripted series of payments to a gateway
// that runs the first-party fraud filter (see gateway.yaml), then reads each
// event back with GET /v1/events/{id} and prints its status and the
// filter's verdict: allowed, flagged (still delivered) or denied (kept, but
// never delivered).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// payment is one scripted payment and what the fraud rules make of it.
type payment struct {
	Name string // what the payment shows
	Data string // the event's data
}

// payments covers every rule of gateway.yaml's fraud config.
var payments = []payment{
	{"ordinary", `{"card_id":"c1","amount":25,"ip":"198.51.100.1"}`},
	{"large", `{"card_id":"c2","amount":1500,"ip":"198.51.100.2"}`},
	{"too large", `{"card_id":"c3","amount":25000,"ip":"198.51.100.3"}`},
	{"blocked ip", `{"card_id":"c4","amount":10,"ip":"203.0.113.7"}`},
	{"allowlisted", `{"card_id":"c5","amount":50000,"customer":{"email":"ops@example.com"}}`},
	{"card c9, 1st", `{"card_id":"c9","amount":5}`},
	{"card c9, 2nd", `{"card_id":"c9","amount":5}`},
	{"card c9, 3rd", `{"card_id":"c9","amount":5}`},
	{"card c9, 4th", `{"card_id":"c9","amount":5}`},
}

// verdict is one plugin's decision, as GET /v1/events/{id} shows it.
type verdict struct {
	Plugin  string `json:"plugin"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// result is a published payment read back from the gateway.
type result struct {
	Name     string
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Verdicts []verdict `json:"verdicts"`
}

func main() {
	gw := flag.String("gateway", "http://127.0.0.1:8080", "the gateway's base URL")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := run(ctx, *gw, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run publishes the payments as payment.created events, waits until the
// filter has decided on each (its status is no longer pending) and writes
// one line per payment to out.
func run(ctx context.Context, gatewayURL string, out io.Writer) ([]result, error) {
	base := strings.TrimRight(gatewayURL, "/")
	client := &http.Client{Timeout: 10 * time.Second}
	results := make([]result, len(payments))
	for i, p := range payments {
		var r result
		body := `{"type":"payment.created","data":` + p.Data + `}`
		if err := call(ctx, client, http.MethodPost, base+"/v1/events", body, http.StatusAccepted, &r); err != nil {
			return nil, fmt.Errorf("publish %s: %w", p.Name, err)
		}
		results[i] = result{Name: p.Name, ID: r.ID}
	}
	for i := range results {
		r := &results[i]
		for {
			if err := call(ctx, client, http.MethodGet, base+"/v1/events/"+r.ID, "", http.StatusOK, r); err != nil {
				return nil, fmt.Errorf("read %s: %w", r.Name, err)
			}
			if r.Status != "pending" {
				break
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("waiting for the verdict on %s: %w", r.Name, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
		line := fmt.Sprintf("%-13s %s  %-10s", r.Name, r.ID, r.Status)
		for _, v := range r.Verdicts {
			line += fmt.Sprintf("  %s: %s", v.Plugin, v.Outcome)
			if v.Reason != "" {
				line += " (" + v.Reason + ")"
			}
			if v.Error != "" {
				line += " [error: " + v.Error + "]"
			}
		}
		fmt.Fprintln(out, line)
	}
	return results, nil
}

// call sends a request and decodes the JSON answer into out, or returns an
// error unless the status is want.
func call(ctx context.Context, client *http.Client, method, url, body string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}
