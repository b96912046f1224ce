package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// leaks are what must never reach a client: SQL and driver text, source
// positions, Go type and package names.
var leaks = []string{"sql", "pq:", "sqlite", "relation", ".go:", "storage:", "sqlstore", "*oidc", "oidc.",
	"errors.", "ErrorType=", "goroutine", "runtime."}

// With the database failing, every endpoint answers as the server's fault:
// a generic server_error (500) for an unexplained failure, and
// temporarily_unavailable / a 503 page for storage.ErrUnavailable. Nothing
// says the client's credentials are bad, nothing leaks the cause.
func TestStoreFailuresNeverReachClients(t *testing.T) {
	modes := map[string]struct {
		err    error
		status int
		code   string
	}{
		"unexplained failure": {errors.New(`pq: relation "x" does not exist (sqlstore.go:42, *pq.Error)`), 500, "server_error"},
		"database unavailable": {fmt.Errorf("%w: sqlite: database is locked; pq: relation \"x\" does not exist",
			storage.ErrUnavailable), 503, "temporarily_unavailable"},
	}
	for _, eng := range e2e.Engines() {
		for mode, m := range modes {
			t.Run(eng.Name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				sw := new(storagetest.Switch)
				srv := e2e.Start(t, e2e.Options{Engine: eng,
					WrapStore: func(s storage.Store) storage.Store { return storagetest.NewFailing(s, sw) }})
				srv.CreateUser(testEmail, testPassword, "--name", "Alice")
				r := e2e.NewRP(t, srv, srv.CreateClient("--name", "App", "--redirect-uri", redirectURI,
					"--post-logout-redirect-uri", logoutURI))

				// While the database works: tokens, an unredeemed code, and a
				// completed login waiting at the callback.
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				fCode := r.Start()
				code := r.Login(e2e.NewBrowser(t, redirectURI), fCode, testEmail, testPassword)
				callback := srv.URL + "/authorize/callback"
				cb := e2e.NewBrowser(t, callback)
				fcb := r.Start()
				p := cb.Submit(cb.Get(fcb.AuthURL), map[string]string{"email": testEmail, "password": testPassword})
				callbackURL := p.Redirect().String()
				if !strings.HasPrefix(callbackURL, callback) {
					t.Fatalf("expected the callback, got %d %s", p.Status, callbackURL)
				}
				cb.StopAt = redirectURI

				sw.Set(m.err)
				basic := r.SetBasicAuth
				tokenURL := r.Provider.Endpoint().TokenURL
				endSession := srv.URL + "/end_session?" + url.Values{"id_token_hint": {tk.OAuth.Extra("id_token").(string)},
					"post_logout_redirect_uri": {logoutURI}}.Encode()
				bearer, _ := http.NewRequest("GET", srv.URL+"/userinfo", nil)
				bearer.Header.Set("Authorization", "Bearer "+tk.OAuth.AccessToken)
				plain := e2e.NewBrowser(t, redirectURI)
				cases := []struct {
					name string
					page bool // a browser endpoint: a page, not JSON
					do   func() *e2e.Page
				}{
					{"discovery", false, func() *e2e.Page { return plain.Get(srv.URL + "/.well-known/openid-configuration") }},
					{"jwks", false, func() *e2e.Page { return plain.Get(srv.URL + "/keys") }},
					{"authorize", true, func() *e2e.Page { return plain.Get(r.Start().AuthURL) }},
					{"token: authorization_code", false, func() *e2e.Page {
						return plain.Do(basic(e2e.NewFormRequest(t, tokenURL, url.Values{"grant_type": {"authorization_code"},
							"code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {fCode.Verifier}})))
					}},
					{"token: refresh_token", false, func() *e2e.Page {
						return plain.Do(basic(e2e.NewFormRequest(t, tokenURL, url.Values{"grant_type": {"refresh_token"},
							"refresh_token": {tk.OAuth.RefreshToken}})))
					}},
					{"userinfo", false, func() *e2e.Page { return plain.Do(bearer) }},
					{"introspect", false, func() *e2e.Page {
						return plain.Do(basic(e2e.NewFormRequest(t, srv.URL+"/oauth/introspect", url.Values{"token": {tk.OAuth.AccessToken}})))
					}},
					{"revoke", false, func() *e2e.Page {
						return plain.Do(basic(e2e.NewFormRequest(t, srv.URL+"/revoke", url.Values{"token": {tk.OAuth.RefreshToken},
							"token_type_hint": {"refresh_token"}})))
					}},
					{"end_session", true, func() *e2e.Page { return e2e.NewBrowser(t, logoutURI).Get(endSession) }},
					{"authorize callback", true, func() *e2e.Page { return cb.Get(callbackURL) }},
				}
				for _, c := range cases {
					p := c.do()
					// Keys are cached: discovery and JWKS may still answer,
					// but only in full. (Key material is random base64 and
					// may spell anything, so it is not searched for leaks.)
					if c.name == "discovery" && p.Status == http.StatusOK {
						var d struct {
							Issuer string   `json:"issuer"`
							Algs   []string `json:"id_token_signing_alg_values_supported"`
						}
						if json.Unmarshal([]byte(p.Body), &d) != nil || d.Issuer != srv.URL || len(d.Algs) == 0 {
							t.Errorf("discovery: 200 with incomplete content: %s", p.Body)
						}
						continue
					}
					if c.name == "jwks" && p.Status == http.StatusOK {
						var ks struct{ Keys []json.RawMessage }
						if json.Unmarshal([]byte(p.Body), &ks) != nil || len(ks.Keys) == 0 {
							t.Errorf("jwks: 200 without keys: %s", p.Body)
						}
						continue
					}
					lower := strings.ToLower(p.Body)
					for _, leak := range leaks {
						if strings.Contains(lower, strings.ToLower(leak)) {
							t.Errorf("%s: body contains %q: %d\n%s", c.name, leak, p.Status, p.Body)
						}
					}
					if p.Status != m.status {
						t.Errorf("%s: status %d, want %d\n%s", c.name, p.Status, m.status, p.Body)
					}
					if m.status == http.StatusServiceUnavailable && p.Header.Get("Retry-After") == "" {
						t.Errorf("%s: 503 without Retry-After", c.name)
					}
					if c.page {
						if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
							t.Errorf("%s: Content-Type %q, want a page", c.name, p.Header.Get("Content-Type"))
						}
						continue
					}
					var e struct{ Error string }
					json.Unmarshal([]byte(p.Body), &e)
					if e.Error != m.code {
						t.Errorf("%s: error %q, want %q: %s", c.name, e.Error, m.code, p.Body)
					}
				}
				// The detail is in the log, for the operator.
				if !strings.Contains(srv.Logs(), `relation \"x\" does not exist`) &&
					!strings.Contains(srv.Logs(), `relation "x" does not exist`) {
					t.Errorf("the store's error is not in the log")
				}

				// Once the database is back, the code and the tokens still work.
				sw.Set(nil)
				if _, err := r.In(t).Exchange(fCode, code); err != nil {
					t.Errorf("the code did not survive the outage: %v", err)
				}
			})
		}
	}
}
