package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// shortener maps codes to URLs and publishes an event for every link made
// and every click. It is safe for concurrent use.
type shortener struct {
	gateway string // the gateway's base URL
	client  *http.Client
	out     io.Writer

	mu    sync.Mutex
	links map[string]string // code -> URL
}

// runShortener serves the shortener on ln until ctx ends:
//
//	POST /links {"url":"https://..."}  -> 201 {"code":"...","short_url":"..."}, publishes link.created
//	GET  /{code}                       -> 302 to the URL, publishes link.clicked
func runShortener(ctx context.Context, ln net.Listener, gatewayURL string, out io.Writer) error {
	s := &shortener{
		gateway: strings.TrimRight(gatewayURL, "/"),
		client:  &http.Client{Timeout: 10 * time.Second},
		out:     out,
		links:   make(map[string]string),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /links", s.create)
	mux.HandleFunc("GET /{code}", s.follow)
	return serve(ctx, ln, mux)
}

func (s *shortener) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		http.Error(w, "want {\"url\":\"https://...\"}", http.StatusBadRequest)
		return
	}
	if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		http.Error(w, "url must be an absolute http(s) URL", http.StatusUnprocessableEntity)
		return
	}
	code := rand.Text()[:7]
	s.mu.Lock()
	s.links[code] = req.URL
	s.mu.Unlock()

	// The Idempotency-Key makes a retried publish safe: the gateway keeps
	// one event per key.
	data := map[string]string{"link_id": "lnk_" + code, "code": code, "url": req.URL}
	if err := s.publish(r.Context(), "link.created", "link-created-"+code, data); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	short := "http://" + r.Host + "/" + code
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "short_url": short, "url": req.URL})
}

func (s *shortener) follow(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	s.mu.Lock()
	target, ok := s.links[code]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	// A click must not wait on, or fail because of, the gateway for long;
	// a real service would queue the event. Here a failed publish is only
	// logged and the visitor is redirected anyway.
	data := map[string]string{"link_id": "lnk_" + code, "code": code, "url": target, "user_agent": r.UserAgent()}
	if err := s.publish(r.Context(), "link.clicked", "", data); err != nil {
		fmt.Fprintf(s.out, "shortener: %v\n", err)
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// publish sends one event to the gateway's POST /v1/events.
func (s *shortener) publish(ctx context.Context, typ, idempotencyKey string, data any) error {
	body, err := json.Marshal(map[string]any{"type": typ, "data": data})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.gateway+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("publish %s: %w", typ, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("publish %s: gateway answered %s: %s", typ, resp.Status, bytes.TrimSpace(answer))
	}
	var receipt struct{ ID string }
	_ = json.Unmarshal(answer, &receipt)
	fmt.Fprintf(s.out, "published %s %s\n", typ, receipt.ID)
	return nil
}

// serve runs h on ln until ctx ends, then shuts the server down.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
