package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/eventgw/gateway/sdk/verify"
)

// runReceiver serves POST /webhooks on ln until ctx ends. It verifies each
// delivery's signature with secret (the webhook's "whsec_..."), answers 401
// to anything unsigned or tampered with, and writes one line per verified
// event to out.
func runReceiver(ctx context.Context, ln net.Listener, secret string, out io.Writer) error {
	v, err := verify.New(secret)
	if err != nil {
		return fmt.Errorf("receiver: %w (set WEBHOOK_SECRET to the secret from POST /v1/webhooks)", err)
	}
	var mu sync.Mutex // serialises the lines written to out
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks", func(w http.ResponseWriter, r *http.Request) {
		body, err := v.VerifyRequest(r) // verifies the raw bytes, before any decoding
		if errors.Is(err, verify.ErrBodyTooLarge) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			mu.Lock()
			fmt.Fprintf(out, "rejected: %v\n", err)
			mu.Unlock()
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var e struct {
			ID   string          `json:"id"`
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		// Retries carry the same webhook-id; a real receiver would skip ids
		// it has already processed.
		mu.Lock()
		fmt.Fprintf(out, "verified %s %s %s\n", e.Type, r.Header.Get("webhook-id"), e.Data)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent) // any 2xx ends the retries
	})
	return serve(ctx, ln, mux)
}
