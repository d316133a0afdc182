// Command partner-redaction receives the two webhooks of this example's
// gateway.yaml, which both subscribe to order.* events: /internal gets the
// events as published, /partner gets the copy rewritten by the redact
// plugin. It prints every payload it gets, so the difference shows.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8003", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("receiving on http://%s/internal and http://%s/partner", ln.Addr(), ln.Addr())
	if err := run(ctx, ln, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves POST /internal and POST /partner on ln until ctx ends, and
// writes "<endpoint> got <body>" to out for every delivery.
//
// It does not check signatures, to keep the example on the payloads; see
// examples/link-shortener for a receiver that does (with sdk/verify).
func run(ctx context.Context, ln net.Listener, out io.Writer) error {
	var mu sync.Mutex
	mux := http.NewServeMux()
	for _, name := range []string{"internal", "partner"} {
		mux.HandleFunc("POST /"+name, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "read failed", http.StatusBadRequest)
				return
			}
			mu.Lock()
			fmt.Fprintf(out, "%-8s got %s\n", name, body)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		})
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
