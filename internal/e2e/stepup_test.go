package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/stepup"
	"github.com/stepgate/stepgate/stepup/demo"
)

// pageRecorder sits under the test browser and remembers every request it
// made and what came back, so a test can say which pages a user saw
// between two clicks.
type pageRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	hits []recordedHit
}

type recordedHit struct {
	method   string
	URL      *url.URL
	status   int
	password bool // the response was a page with a password field
}

func (r *pageRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.hits = append(r.hits, recordedHit{method: req.Method, URL: req.URL, status: resp.StatusCode,
		password: strings.Contains(string(body), `name="password"`)})
	r.mu.Unlock()
	return resp, nil
}

// since returns the hits after the first n.
func (r *pageRecorder) since(n int) []recordedHit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedHit(nil), r.hits[n:]...)
}

func (r *pageRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

// startStepUpDemo runs the step-up demo (stepup/demo) in-process on a free port
// against srv, registered as a confidential client with its callback.
func startStepUpDemo(t *testing.T, srv *e2e.Server) string {
	t.Helper()
	addr := e2e.FreePort(t)
	base := "http://" + addr
	c := srv.CreateClient("--name", "Step-up Demo", "--redirect-uri", base+"/callback")
	h, err := demo.New(context.Background(), demo.Config{Issuer: srv.URL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(l) }()
	t.Cleanup(func() {
		hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("demo server: %v", err)
		}
	})
	return base
}

// TestStepUpDemo drives RFC 9470 step-up end to end: a password-only login
// through the demo app, an API call refused with
// insufficient_user_authentication, the browser sent back to StepGate with
// acr_values=2fa, StepGate asking only for the second factor, and the API
// answering after the new login.
func TestStepUpDemo(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv := e2e.Start(t, e2e.Options{Engine: eng, Mail: e2e.NewMailbox(t)})
			srv.CreateUser(testEmail, testPassword, "--name", "Alice")
			demoURL := startStepUpDemo(t, srv)

			b := e2e.NewBrowser(t, "") // follow every redirect, as a browser does
			rec := &pageRecorder{next: http.DefaultTransport}
			b.Client.Transport = rec

			t.Run("the API refuses a request without a token", func(t *testing.T) {
				resp, err := http.Get(demoURL + "/api/secret")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="stepgate-demo"` {
					t.Errorf("%d WWW-Authenticate: %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			})

			t.Run("StepGate's JWT access tokens verify; its ID tokens are not access tokens", func(t *testing.T) {
				c := srv.CreateClient("--name", "Verifier Check", "--redirect-uri", redirectURI)
				r := e2e.NewRP(t, srv, c)
				f := r.Start()
				tk := r.MustExchange(f, r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
				v, err := stepup.NewVerifier(t.Context(), srv.URL, stepup.WithAudience(c.ClientID))
				if err != nil {
					t.Fatal(err)
				}
				claims, err := v.Verify(t.Context(), tk.OAuth.AccessToken)
				if err != nil {
					t.Fatalf("access token: %v", err)
				}
				if claims.ACR != "1fa" || claims.ClientID != c.ClientID || claims.AuthTime.IsZero() || claims.JTI == "" {
					t.Errorf("claims %+v", claims)
				}
				if _, err := v.Verify(t.Context(), tk.OAuth.Extra("id_token").(string)); err == nil {
					t.Error("an ID token verified as an access token")
				}
				other, err := stepup.NewVerifier(t.Context(), srv.URL, stepup.WithAudience("another-client"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := other.Verify(t.Context(), tk.OAuth.AccessToken); err == nil {
					t.Error("a token for another client verified")
				}
			})

			ok := t.Run("a password login through the demo is 1fa", func(t *testing.T) {
				p := b.Get(demoURL + "/")
				if !strings.Contains(p.Body, `<a href="/login">Log in</a>`) {
					t.Fatalf("no login link:\n%s", p.Body)
				}
				p = b.Get(demoURL + "/login")
				if !strings.Contains(p.Body, `name="password"`) {
					t.Fatalf("expected StepGate's password page, got %d %s:\n%s", p.Status, p.URL, p.Body)
				}
				p = b.Submit(p, map[string]string{"email": testEmail, "password": testPassword})
				if p.Status != http.StatusOK || p.URL.String() != demoURL+"/" {
					t.Fatalf("after the password: %d %s:\n%s", p.Status, p.URL, p.Body)
				}
				for _, want := range []string{`<td id="acr">1fa</td>`, `<td id="amr">pwd</td>`, "Call the protected API"} {
					if !strings.Contains(p.Body, want) {
						t.Errorf("demo page lacks %q:\n%s", want, p.Body)
					}
				}
			})
			if !ok {
				return
			}

			t.Run("the API challenges; StepGate asks only for the second factor; the API then answers", func(t *testing.T) {
				before := rec.count()
				p := b.Get(demoURL + "/").Form(e2e.WithButton("Call the protected API")).Submit()

				var authorize *url.URL
				for _, h := range rec.since(before) {
					if strings.HasPrefix(h.URL.String(), srv.URL+"/authorize") {
						authorize = h.URL
						break
					}
				}
				if authorize == nil {
					t.Fatalf("the demo did not send the browser to StepGate; it ended on %d %s:\n%s", p.Status, p.URL, p.Body)
				}
				if q := authorize.Query(); q.Get("acr_values") != "2fa" || q.Has("prompt") || q.Has("max_age") {
					t.Errorf("step-up request %s: want acr_values=2fa, no prompt, no max_age (the login is fresh)", authorize)
				}
				noPasswordPage := func() {
					t.Helper()
					for _, h := range rec.since(before) {
						if h.password {
							t.Fatalf("a password page was shown during step-up: %s %s", h.method, h.URL)
						}
					}
				}
				noPasswordPage()
				if !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("expected StepGate's second-factor page, got %d %s:\n%s", p.Status, p.URL, p.Body)
				}
				if tab, ok := p.Link("Email code"); ok {
					p = b.Get(tab.String())
				}
				if !strings.Contains(p.Body, "We will email a 6-digit code") {
					t.Fatalf("expected the email tab, got %d:\n%s", p.Status, p.Body)
				}
				p = p.Form(e2e.WithButton("Send code")).Submit()
				p = p.Form(e2e.WithAction("/login/email")).Set("code", srv.Mail.Code(testEmail)).Submit()

				noPasswordPage()
				if p.Status != http.StatusOK || p.URL.String() != demoURL+"/" {
					t.Fatalf("after the second factor: %d %s:\n%s", p.Status, p.URL, p.Body)
				}
				text := func(id string) string { e, _ := p.ByID(id); return e.Text() }
				if text("acr") != "2fa" || text("amr") != "pwd email mfa" || !strings.HasPrefix(text("api-status"), "HTTP 200") {
					t.Errorf("demo page after step-up: acr %q, amr %q, API %q", text("acr"), text("amr"), text("api-status"))
				}
				for _, want := range []string{`"acr":"2fa"`, "vault combination"} {
					if !strings.Contains(text("api-body"), want) {
						t.Errorf("API answer after step-up lacks %q: %s", want, text("api-body"))
					}
				}
			})

			t.Run("with a fresh 2fa token the API answers at once", func(t *testing.T) {
				before := rec.count()
				p := b.Get(demoURL + "/").Form(e2e.WithButton("Call the protected API")).Submit()
				for _, h := range rec.since(before) {
					if strings.HasPrefix(h.URL.String(), srv.URL) {
						t.Errorf("went to StepGate again: %s", h.URL)
					}
				}
				if !strings.Contains(p.Body, `id="api-status">HTTP 200`) {
					t.Errorf("API call with the stepped-up token:\n%s", p.Body)
				}
			})
		})
	}
}
