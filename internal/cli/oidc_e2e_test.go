package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const (
	testEmail    = "alice@example.com"
	testPassword = "correct horse battery staple"
	redirectURI  = "http://127.0.0.1:9/callback"
	logoutURI    = "http://127.0.0.1:9/bye"
)

// rp is a relying party built from go-oidc and x/oauth2, as an application
// integrating StepGate would be.
type rp struct {
	t        *testing.T
	srv      *testServer
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config
}

func newRP(t *testing.T, srv *testServer, c createdClient) *rp {
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, srv.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &rp{t: t, srv: srv, provider: p, verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: srv.clock.Now}),
		conf: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}}}
}

// flow is one authorization request in progress.
type flow struct {
	state, nonce, verifier string
	authURL                string
}

func (r *rp) start(extra ...oauth2.AuthCodeOption) flow {
	f := flow{state: randHex(), nonce: randHex(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier)}, extra...)
	f.authURL = r.conf.AuthCodeURL(f.state, opts...)
	return f
}

func randHex() string { return strings.ReplaceAll(oauth2.GenerateVerifier()[:16], "-", "x") }

// callback checks the browser was sent back to the relying party and
// returns the query it carried.
func (r *rp) callback(f flow, p page) url.Values {
	r.t.Helper()
	if p.status != http.StatusFound && p.status != http.StatusSeeOther {
		r.t.Fatalf("expected a redirect to the client, got %d at %s:\n%s", p.status, p.url, p.body)
	}
	loc := p.redirect()
	if !strings.HasPrefix(loc.String(), redirectURI) {
		r.t.Fatalf("redirected to %s, not the client", loc)
	}
	q := loc.Query()
	if q.Get("state") != f.state {
		r.t.Fatalf("state %q, want %q", q.Get("state"), f.state)
	}
	return q
}

// login runs the whole browser flow with a password and returns the code.
func (r *rp) login(b *browser, f flow, email, password string) string {
	r.t.Helper()
	p := b.get(f.authURL)
	if !strings.Contains(p.body, `name="password"`) {
		r.t.Fatalf("expected the password page, got %d:\n%s", p.status, p.body)
	}
	p = b.submit(p, map[string]string{"email": email, "password": password})
	q := r.callback(f, p)
	if q.Get("code") == "" {
		r.t.Fatalf("no code in %v", q)
	}
	return q.Get("code")
}

type tokens struct {
	oauth  *oauth2.Token
	id     *oidc.IDToken
	claims map[string]any
}

func (r *rp) exchange(f flow, code string) (tokens, error) {
	ctx := context.Background()
	tok, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		return tokens{}, err
	}
	return r.verify(tok, f.nonce)
}

func (r *rp) verify(tok *oauth2.Token, nonce string) (tokens, error) {
	raw, _ := tok.Extra("id_token").(string)
	id, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		return tokens{}, err
	}
	if nonce != "" && id.Nonce != nonce {
		r.t.Fatalf("nonce %q, want %q", id.Nonce, nonce)
	}
	var claims map[string]any
	id.Claims(&claims)
	return tokens{oauth: tok, id: id, claims: claims}, nil
}

func (r *rp) mustExchange(f flow, code string) tokens {
	r.t.Helper()
	tk, err := r.exchange(f, code)
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return tk
}

// introspect asks the introspection endpoint about a token with the
// client's credentials.
func (r *rp) introspect(token string) map[string]any {
	r.t.Helper()
	form := url.Values{"token": {token}}
	req, _ := http.NewRequest("POST", r.srv.issuer+"/oauth/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func (r *rp) revoke(token, hint string) int {
	r.t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	req, _ := http.NewRequest("POST", r.srv.issuer+"/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func jwtClaims(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, dst)
	}
	return header, claims
}

func amrOf(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// setup starts a server with one user and one confidential client.
func setup(t *testing.T, database func(*testing.T, string) string) (*testServer, *rp, string) {
	dir := t.TempDir()
	srv := startServer(t, database(t, dir), dir)
	userID := srv.createUser(testEmail, testPassword, "--name", "Alice")
	c := srv.createClient("--name", "Test App", "--redirect-uri", redirectURI, "--post-logout-redirect-uri", logoutURI)
	return srv, newRP(t, srv, c), userID
}

func TestOIDC(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, userID := setup(t, database)

			t.Run("discovery advertises exactly what is supported", func(t *testing.T) {
				var d map[string]any
				resp, err := http.Get(srv.issuer + "/.well-known/openid-configuration")
				if err != nil {
					t.Fatal(err)
				}
				json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				if got := amrOf(d["code_challenge_methods_supported"]); !slices.Equal(got, []string{"S256"}) {
					t.Errorf("code_challenge_methods_supported = %v", got)
				}
				if got := amrOf(d["acr_values_supported"]); !slices.Equal(got, []string{"1fa", "2fa"}) {
					t.Errorf("acr_values_supported = %v", got)
				}
				claims := amrOf(d["claims_supported"])
				for _, c := range []string{"amr", "acr", "auth_time"} {
					if !slices.Contains(claims, c) {
						t.Errorf("claims_supported lacks %s", c)
					}
				}
				keys, err := http.Get(d["jwks_uri"].(string))
				if err != nil {
					t.Fatal(err)
				}
				keys.Body.Close()
				if cc := keys.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
					t.Errorf("JWKS Cache-Control = %q", cc)
				}
			})

			t.Run("happy path: password login gives pwd/1fa in every token", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				before := srv.clock.Now().Add(-time.Second)
				tk := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				if tk.id.Subject != userID {
					t.Errorf("sub = %q, want %q", tk.id.Subject, userID)
				}
				if got := amrOf(tk.claims["amr"]); !slices.Equal(got, []string{"pwd"}) {
					t.Errorf("amr = %v", got)
				}
				if tk.claims["acr"] != "1fa" {
					t.Errorf("acr = %v", tk.claims["acr"])
				}
				at, _ := tk.claims["auth_time"].(float64)
				if at < float64(before.Unix()) || at > float64(srv.clock.Now().Unix()+1) {
					t.Errorf("auth_time = %v", tk.claims["auth_time"])
				}
				if tk.claims["email"] != nil && tk.claims["email"] != testEmail {
					t.Errorf("email = %v", tk.claims["email"])
				}
				// JWT access token (RFC 9068 claims), verifiable with the JWKS.
				_, atc := jwtClaims(t, tk.oauth.AccessToken)
				if !slices.Equal(amrOf(atc["amr"]), []string{"pwd"}) || atc["acr"] != "1fa" || atc["auth_time"] == nil ||
					atc["client_id"] != r.conf.ClientID || atc["sub"] != userID || atc["jti"] == nil {
					t.Errorf("access token claims = %v", atc)
				}
				if _, err := r.provider.VerifierContext(context.Background(), &oidc.Config{SkipClientIDCheck: true}).
					Verify(context.Background(), tk.oauth.AccessToken); err != nil {
					t.Errorf("access token does not verify against the JWKS: %v", err)
				}
				// Userinfo.
				ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tk.oauth))
				if err != nil {
					t.Fatal(err)
				}
				if ui.Subject != userID || ui.Email != testEmail {
					t.Errorf("userinfo = %+v", ui)
				}
				// Introspection.
				in := r.introspect(tk.oauth.AccessToken)
				if in["active"] != true || !slices.Equal(amrOf(in["amr"]), []string{"pwd"}) || in["acr"] != "1fa" ||
					in["auth_time"] == nil || in["sub"] != userID {
					t.Errorf("introspection = %v", in)
				}
				// Refresh keeps amr, acr and auth_time.
				ts := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.oauth.RefreshToken})
				nt, err := ts.Token()
				if err != nil {
					t.Fatal(err)
				}
				if nt.RefreshToken == tk.oauth.RefreshToken {
					t.Error("refresh token was not rotated")
				}
				rtk, err := r.verify(nt, "")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(amrOf(rtk.claims["amr"]), []string{"pwd"}) || rtk.claims["acr"] != "1fa" ||
					rtk.claims["auth_time"] != tk.claims["auth_time"] {
					t.Errorf("refreshed ID token claims = %v", rtk.claims)
				}
				in = r.introspect(nt.AccessToken)
				if in["acr"] != "1fa" || in["auth_time"] != tk.claims["auth_time"] {
					t.Errorf("introspection after refresh = %v", in)
				}
			})

			t.Run("SSO: prompt=none with a session succeeds silently, without one answers login_required", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start(oauth2.SetAuthURLParam("prompt", "none"))
				q := r.callback(f, b.get(f.authURL))
				if q.Get("error") != "login_required" {
					t.Fatalf("without session: %v", q)
				}
				f = r.start()
				first := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				f = r.start(oauth2.SetAuthURLParam("prompt", "none"))
				q = r.callback(f, b.get(f.authURL))
				if q.Get("code") == "" {
					t.Fatalf("with session: %v", q)
				}
				tk := r.mustExchange(f, q.Get("code"))
				if tk.claims["auth_time"] != first.claims["auth_time"] {
					t.Errorf("silent login auth_time %v, want the session's %v", tk.claims["auth_time"], first.claims["auth_time"])
				}
			})

			t.Run("prompt=login and max_age=0 ask for the password despite a session", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				for _, opt := range []oauth2.AuthCodeOption{
					oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"),
				} {
					f := r.start(opt)
					p := b.get(f.authURL)
					if !strings.Contains(p.body, `name="password"`) {
						t.Fatalf("expected the password page, got %d", p.status)
					}
				}
				// A generous max_age is satisfied by the session.
				f = r.start(oauth2.SetAuthURLParam("max_age", "3600"))
				if q := r.callback(f, b.get(f.authURL)); q.Get("code") == "" {
					t.Fatalf("max_age=3600: %v", q)
				}
			})

			t.Run("max_age older than the session's password asks again; prompt=none then gets login_required", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				srv.clock.Advance(2100 * time.Millisecond)
				f = r.start(oauth2.SetAuthURLParam("max_age", "1"))
				if p := b.get(f.authURL); !strings.Contains(p.body, `name="password"`) {
					t.Fatalf("expected the password page, got %d", p.status)
				}
				f = r.start(oauth2.SetAuthURLParam("max_age", "1"), oauth2.SetAuthURLParam("prompt", "none"))
				if q := r.callback(f, b.get(f.authURL)); q.Get("error") != "login_required" {
					t.Fatalf("prompt=none max_age=1: %v", q)
				}
			})

			t.Run("login_hint prefills the email; id_token_hint of another user asks again", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start(oauth2.SetAuthURLParam("login_hint", "hint@example.com"))
				if p := b.get(f.authURL); !strings.Contains(p.body, `value="hint@example.com"`) {
					t.Errorf("login_hint not prefilled")
				}
				srv.createUser("bob@example.com", "bob password 123")
				bob := newBrowser(t, redirectURI)
				f = r.start()
				bobTok := r.mustExchange(f, r.login(bob, f, "bob@example.com", "bob password 123"))
				f = r.start()
				r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				f = r.start(oauth2.SetAuthURLParam("prompt", "none"),
					oauth2.SetAuthURLParam("id_token_hint", bobTok.oauth.Extra("id_token").(string)))
				if q := r.callback(f, b.get(f.authURL)); q.Get("error") != "login_required" {
					t.Fatalf("alice's session with bob's id_token_hint: %v", q)
				}
			})

			t.Run("a code redeemed twice fails and revokes the tokens issued from it", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				code := r.login(b, f, testEmail, testPassword)
				tk := r.mustExchange(f, code)
				if _, err := r.exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("second redemption: %v", err)
				}
				if in := r.introspect(tk.oauth.AccessToken); in["active"] != false {
					t.Errorf("access token still active after code reuse: %v", in)
				}
				ts := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.oauth.RefreshToken})
				if _, err := ts.Token(); err == nil {
					t.Error("refresh token still works after code reuse")
				}
			})

			t.Run("a code is bound to its redirect URI and PKCE verifier", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				code := r.login(b, f, testEmail, testPassword)
				wrong := f
				wrong.verifier = oauth2.GenerateVerifier()
				if _, err := r.exchange(wrong, code); err == nil {
					t.Fatal("exchange with a wrong code_verifier succeeded")
				}
				f = r.start()
				code = r.login(newBrowser(t, redirectURI), f, testEmail, testPassword)
				other := *r
				other.conf.RedirectURL = logoutURI // registered, but not the one the code was issued for
				if _, err := other.exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("exchange with another redirect_uri: %v", err)
				}
			})

			t.Run("a completed login's code is issued only to the browser that completed it", func(t *testing.T) {
				callback := srv.issuer + "/authorize/callback"
				b := newBrowser(t, callback)
				f := r.start()
				p := b.submit(b.get(f.authURL), map[string]string{"email": testEmail, "password": testPassword})
				loc := p.url.ResolveReference(p.redirect()).String()
				if !strings.HasPrefix(loc, callback) {
					t.Fatalf("expected the callback, got %d %s", p.status, loc)
				}
				thief := newBrowser(t, redirectURI)
				if got := thief.get(loc); got.status != http.StatusBadRequest || !strings.Contains(got.body, "Sign-in not completed") {
					t.Fatalf("callback in another browser answered %d", got.status)
				}
				b.stopAt = redirectURI
				if q := r.callback(f, b.get(loc)); q.Get("code") == "" {
					t.Fatalf("callback in the right browser: %v", q)
				}
			})

			t.Run("refresh tokens rotate, and reuse revokes the family", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				tk := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				first := tk.oauth.RefreshToken
				second, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first}).Token()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first}).Token(); err == nil ||
					!strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("reused refresh token: %v", err)
				}
				if _, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: second.RefreshToken}).Token(); err == nil {
					t.Fatal("the family's newest refresh token still works after reuse")
				}
				if in := r.introspect(second.AccessToken); in["active"] != false {
					t.Errorf("access token of the family still active: %v", in)
				}
			})

			t.Run("revocation ends access and refresh tokens", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				tk := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				if code := r.revoke(tk.oauth.AccessToken, "access_token"); code != 200 {
					t.Fatalf("revoke access token: %d", code)
				}
				if in := r.introspect(tk.oauth.AccessToken); in["active"] != false {
					t.Errorf("revoked access token active: %v", in)
				}
				if code := r.revoke(tk.oauth.RefreshToken, "refresh_token"); code != 200 {
					t.Fatalf("revoke refresh token: %d", code)
				}
				if _, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.oauth.RefreshToken}).Token(); err == nil {
					t.Error("revoked refresh token still works")
				}
				if code := r.revoke("no-such-token", "refresh_token"); code != 200 {
					t.Errorf("revoking an unknown token: %d, want 200 (RFC 7009 §2.2)", code)
				}
			})

			t.Run("logout ends the session and returns to the registered URI", func(t *testing.T) {
				b := newBrowser(t, logoutURI)
				b.stopAt = redirectURI
				f := r.start()
				tk := r.mustExchange(f, r.login(b, f, testEmail, testPassword))
				b.stopAt = logoutURI
				q := url.Values{"id_token_hint": {tk.oauth.Extra("id_token").(string)},
					"post_logout_redirect_uri": {logoutURI}, "state": {"bye"}}
				p := b.get(srv.issuer + "/end_session?" + q.Encode())
				if loc := p.redirect(); p.status != http.StatusFound || !strings.HasPrefix(loc.String(), logoutURI) {
					t.Fatalf("end_session: %d %s", p.status, loc)
				}
				b.stopAt = redirectURI
				f = r.start(oauth2.SetAuthURLParam("prompt", "none"))
				if q := r.callback(f, b.get(f.authURL)); q.Get("error") != "login_required" {
					t.Fatalf("after logout prompt=none: %v", q)
				}
			})

			t.Run("wrong password and unknown user get the same answer", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				var answers []page
				for _, email := range []string{testEmail, "nobody@example.com"} {
					f := r.start()
					p := b.submit(b.get(f.authURL), map[string]string{"email": email, "password": "wrong password"})
					answers = append(answers, p)
				}
				// A disabled account, even with its right password.
				srv.createUser("gone@example.com", "gone password 123")
				srv.cli("", "user", "disable", "gone@example.com")
				f := r.start()
				answers = append(answers, b.submit(b.get(f.authURL), map[string]string{"email": "gone@example.com", "password": "gone password 123"}))
				for _, p := range answers {
					if !p.refused("The email or password is not correct.") {
						t.Errorf("failed login answered %d:\n%s", p.status, p.body)
					}
				}
			})

			t.Run("a form without its CSRF token is refused", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				p := b.get(f.authURL)
				p = b.submit(p, map[string]string{"email": testEmail, "password": testPassword, "csrf_token": ""})
				if p.status != http.StatusForbidden {
					t.Fatalf("missing CSRF token answered %d", p.status)
				}
			})

			t.Run("bad authorization requests never redirect to unregistered URIs", func(t *testing.T) {
				b := newBrowser(t, "http://evil.example/")
				cases := map[string]url.Values{
					"unknown redirect_uri": {"client_id": {r.conf.ClientID}, "redirect_uri": {"http://evil.example/cb"}},
					"unknown client_id":    {"client_id": {"nope"}, "redirect_uri": {redirectURI}},
				}
				for name, q := range cases {
					q.Set("response_type", "code")
					q.Set("scope", "openid")
					q.Set("state", "s")
					p := b.get(srv.issuer + "/authorize?" + q.Encode())
					if p.status != http.StatusBadRequest || p.header.Get("Location") != "" ||
						!strings.Contains(p.body, "Invalid sign-in request") || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
						t.Errorf("%s: %d Location=%q\n%s", name, p.status, p.header.Get("Location"), p.body)
					}
				}
				// plain PKCE is refused (the error goes to the registered URI).
				b.stopAt = redirectURI
				f := r.start()
				u, _ := url.Parse(f.authURL)
				q := u.Query()
				q.Set("code_challenge", strings.Repeat("a", 43))
				q.Set("code_challenge_method", "plain")
				u.RawQuery = q.Encode()
				if q := r.callback(f, b.get(u.String())); q.Get("error") != "invalid_request" {
					t.Errorf("plain PKCE: %v", q)
				}
			})

			t.Run("a public client must use PKCE", func(t *testing.T) {
				c := srv.createClient("--name", "SPA", "--public", "--redirect-uri", redirectURI)
				pub := newRP(t, srv, c)
				b := newBrowser(t, redirectURI)
				u := pub.conf.AuthCodeURL("s1")
				p := b.get(u)
				q := p.redirect().Query()
				if q.Get("error") != "invalid_request" {
					t.Errorf("public client without PKCE: %d %v", p.status, q)
				}
				f := pub.start()
				tk := pub.mustExchange(f, pub.login(b, f, testEmail, testPassword))
				if tk.id.Subject != userID {
					t.Errorf("public client login sub = %s", tk.id.Subject)
				}
				// Introspection is for confidential clients only.
				if in := pub.introspect(tk.oauth.AccessToken); in["active"] == true {
					t.Errorf("a public client could introspect: %v", in)
				}
			})
		})
	}
}
