// Command link-shortener is the classic webhook scenario in two parts:
//
//   - "serve" is a tiny link shortener. It publishes link.created when a
//     link is made and link.clicked when one is followed, to the gateway's
//     POST /v1/events.
//   - "receive" is a webhook receiver. It checks each delivery's Standard
//     Webhooks signature with sdk/verify and prints the event.
//
// See README.md for how to run both against a gateway.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var err error
	switch os.Args[1] {
	case "serve":
		addr := fs.String("addr", "127.0.0.1:8001", "address the shortener listens on")
		gw := fs.String("gateway", envOr("GATEWAY_URL", "http://127.0.0.1:8080"), "the gateway's base URL")
		_ = fs.Parse(os.Args[2:])
		var ln net.Listener
		if ln, err = net.Listen("tcp", *addr); err == nil {
			log.Printf("shortener on http://%s, publishing to %s", ln.Addr(), *gw)
			err = runShortener(ctx, ln, *gw, os.Stdout)
		}
	case "receive":
		addr := fs.String("addr", "127.0.0.1:8002", "address the receiver listens on")
		secret := fs.String("secret", os.Getenv("WEBHOOK_SECRET"), "the webhook's signing secret (whsec_...), default $WEBHOOK_SECRET")
		_ = fs.Parse(os.Args[2:])
		var ln net.Listener
		if ln, err = net.Listen("tcp", *addr); err == nil {
			log.Printf("receiver on http://%s/webhooks", ln.Addr())
			err = runReceiver(ctx, ln, *secret, os.Stdout)
		}
	default:
		usage()
	}
	if err != nil {
		log.Fatal(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: link-shortener serve [-addr host:port] [-gateway URL]\n       link-shortener receive [-addr host:port] [-secret whsec_...]")
	os.Exit(2)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
