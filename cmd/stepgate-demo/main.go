// Command stepgate-demo runs the RFC 9470 step-up demo (package
// stepup/demo) against a StepGate issuer: a relying party at / and an API
// at /api/secret that demands a second factor from the last five minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/stepgate/stepgate/stepup/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, os.Getenv))
}

// run returns the exit code: 0 after a clean shutdown, 1 on failure, 2 on a
// usage error.
func run(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("stepgate-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	issuer := fs.String("issuer", "http://127.0.0.1:8080", "StepGate issuer URL")
	clientID := fs.String("client-id", "", "client ID (stepgate client create --redirect-uri http://<listen>/callback)")
	secret := fs.String("client-secret", getenv("STEPGATE_DEMO_CLIENT_SECRET"),
		"client secret; empty for a public client (default $STEPGATE_DEMO_CLIENT_SECRET)")
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on; the redirect URI is http://<listen>/callback")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *clientID == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: stepgate-demo --client-id ID [--client-secret S] [--issuer URL] [--listen ADDR]")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	base := "http://" + *listen
	h, err := demo.New(ctx, demo.Config{Issuer: *issuer, ClientID: *clientID, ClientSecret: *secret, BaseURL: base, Log: log})
	if err != nil {
		fmt.Fprintln(stderr, "stepgate-demo:", err)
		return 1
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "stepgate-demo:", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("demo listening", "url", base, "issuer", *issuer, "redirect_uri", base+"/callback")
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "stepgate-demo:", err)
		return 1
	}
	return 0
}
