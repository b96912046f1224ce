package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/storage"
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
	for name, database := range engines(t) {
		for mode, m := range modes {
			t.Run(name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				sw := new(failSwitch)
				sw.set(nil)
				dir := t.TempDir()
				addr := freePort(t)
				srv := &testServer{t: t, issuer: "http://" + addr, dataDir: dir, logs: &syncBuffer{},
					args: []string{"--dev", "--data-dir", dir, "--database", database(t, dir), "--listen", addr,
						"--issuer", "http://" + addr, "--log-level", "debug"},
					wrap: func(s storage.Store) storage.Store { return &failingStore{inner: s, fail: sw} }}
				srv.start()
				srv.createUser(testEmail, testPassword, "--name", "Alice")
				r := newRP(t, srv, srv.createClient("--name", "App", "--redirect-uri", redirectURI,
					"--post-logout-redirect-uri", logoutURI))

				// While the database works: tokens, an unredeemed code, and a
				// completed login waiting at the callback.
				b := newBrowser(t, redirectURI)
				f := r.start()
				tk := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				fCode := r.start()
				code := r.login(newBrowser(t, redirectURI), fCode, testEmail, testPassword)
				callback := srv.issuer + "/authorize/callback"
				cb := newBrowser(t, callback)
				fcb := r.start()
				p := cb.submit(cb.get(fcb.authURL), map[string]string{"email": testEmail, "password": testPassword})
				callbackURL := p.url.ResolveReference(p.redirect()).String()
				if !strings.HasPrefix(callbackURL, callback) {
					t.Fatalf("expected the callback, got %d %s", p.status, callbackURL)
				}
				cb.stopAt = redirectURI

				sw.set(m.err)
				basic := func(req *http.Request) *http.Request {
					req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
					return req
				}
				tokenURL := r.provider.Endpoint().TokenURL
				endSession := srv.issuer + "/end_session?" + url.Values{"id_token_hint": {tk.oauth.Extra("id_token").(string)},
					"post_logout_redirect_uri": {logoutURI}}.Encode()
				bearer, _ := http.NewRequest("GET", srv.issuer+"/userinfo", nil)
				bearer.Header.Set("Authorization", "Bearer "+tk.oauth.AccessToken)
				plain := newBrowser(t, redirectURI)
				cases := []struct {
					name string
					page bool // a browser endpoint: a page, not JSON
					do   func() page
				}{
					{"discovery", false, func() page { return plain.get(srv.issuer + "/.well-known/openid-configuration") }},
					{"jwks", false, func() page { return plain.get(srv.issuer + "/keys") }},
					{"authorize", true, func() page { return plain.get(r.start().authURL) }},
					{"token: authorization_code", false, func() page {
						return plain.do(basic(newFormRequest(t, tokenURL, url.Values{"grant_type": {"authorization_code"},
							"code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {fCode.verifier}})))
					}},
					{"token: refresh_token", false, func() page {
						return plain.do(basic(newFormRequest(t, tokenURL, url.Values{"grant_type": {"refresh_token"},
							"refresh_token": {tk.oauth.RefreshToken}})))
					}},
					{"userinfo", false, func() page { return plain.do(bearer) }},
					{"introspect", false, func() page {
						return plain.do(basic(newFormRequest(t, srv.issuer+"/oauth/introspect", url.Values{"token": {tk.oauth.AccessToken}})))
					}},
					{"revoke", false, func() page {
						return plain.do(basic(newFormRequest(t, srv.issuer+"/revoke", url.Values{"token": {tk.oauth.RefreshToken},
							"token_type_hint": {"refresh_token"}})))
					}},
					{"end_session", true, func() page { return newBrowser(t, logoutURI).get(endSession) }},
					{"authorize callback", true, func() page { return cb.get(callbackURL) }},
				}
				for _, c := range cases {
					p := c.do()
					// Keys are cached: discovery and JWKS may still answer,
					// but only in full. (Key material is random base64 and
					// may spell anything, so it is not searched for leaks.)
					if c.name == "discovery" && p.status == http.StatusOK {
						var d struct {
							Issuer string   `json:"issuer"`
							Algs   []string `json:"id_token_signing_alg_values_supported"`
						}
						if json.Unmarshal([]byte(p.body), &d) != nil || d.Issuer != srv.issuer || len(d.Algs) == 0 {
							t.Errorf("discovery: 200 with incomplete content: %s", p.body)
						}
						continue
					}
					if c.name == "jwks" && p.status == http.StatusOK {
						var ks struct{ Keys []json.RawMessage }
						if json.Unmarshal([]byte(p.body), &ks) != nil || len(ks.Keys) == 0 {
							t.Errorf("jwks: 200 without keys: %s", p.body)
						}
						continue
					}
					lower := strings.ToLower(p.body)
					for _, leak := range leaks {
						if strings.Contains(lower, strings.ToLower(leak)) {
							t.Errorf("%s: body contains %q: %d\n%s", c.name, leak, p.status, p.body)
						}
					}
					if p.status != m.status {
						t.Errorf("%s: status %d, want %d\n%s", c.name, p.status, m.status, p.body)
					}
					if m.status == http.StatusServiceUnavailable && p.header.Get("Retry-After") == "" {
						t.Errorf("%s: 503 without Retry-After", c.name)
					}
					if c.page {
						if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
							t.Errorf("%s: Content-Type %q, want a page", c.name, p.header.Get("Content-Type"))
						}
						continue
					}
					var e struct{ Error string }
					json.Unmarshal([]byte(p.body), &e)
					if e.Error != m.code {
						t.Errorf("%s: error %q, want %q: %s", c.name, e.Error, m.code, p.body)
					}
				}
				// The detail is in the log, for the operator.
				if !strings.Contains(srv.logs.String(), `relation \"x\" does not exist`) &&
					!strings.Contains(srv.logs.String(), `relation "x" does not exist`) {
					t.Errorf("the store's error is not in the log")
				}

				// Once the database is back, the code and the tokens still work.
				sw.set(nil)
				if _, err := r.in(t).exchange(fCode, code); err != nil {
					t.Errorf("the code did not survive the outage: %v", err)
				}
			})
		}
	}
}
