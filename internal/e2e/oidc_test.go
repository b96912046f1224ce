package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

func TestOIDC(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, userID := setup(t, eng)

			t.Run("discovery advertises exactly what is supported", func(t *testing.T) {
				var d map[string]any
				resp, err := http.Get(srv.URL + "/.well-known/openid-configuration")
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
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				before := srv.Clock.Now().Add(-time.Second)
				tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				if tk.ID.Subject != userID {
					t.Errorf("sub = %q, want %q", tk.ID.Subject, userID)
				}
				if got := amrOf(tk.Claims["amr"]); !slices.Equal(got, []string{"pwd"}) {
					t.Errorf("amr = %v", got)
				}
				if tk.Claims["acr"] != "1fa" {
					t.Errorf("acr = %v", tk.Claims["acr"])
				}
				at, _ := tk.Claims["auth_time"].(float64)
				if at < float64(before.Unix()) || at > float64(srv.Clock.Now().Unix()+1) {
					t.Errorf("auth_time = %v", tk.Claims["auth_time"])
				}
				if tk.Claims["email"] != nil && tk.Claims["email"] != testEmail {
					t.Errorf("email = %v", tk.Claims["email"])
				}
				// JWT access token (RFC 9068 claims), verifiable with the JWKS.
				_, atc := jwtClaims(t, tk.OAuth.AccessToken)
				if !slices.Equal(amrOf(atc["amr"]), []string{"pwd"}) || atc["acr"] != "1fa" || atc["auth_time"] == nil ||
					atc["client_id"] != r.Config.ClientID || atc["sub"] != userID || atc["jti"] == nil {
					t.Errorf("access token claims = %v", atc)
				}
				if _, err := r.Provider.VerifierContext(context.Background(), &oidc.Config{SkipClientIDCheck: true}).
					Verify(context.Background(), tk.OAuth.AccessToken); err != nil {
					t.Errorf("access token does not verify against the JWKS: %v", err)
				}
				// Userinfo.
				ui, err := r.Provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tk.OAuth))
				if err != nil {
					t.Fatal(err)
				}
				if ui.Subject != userID || ui.Email != testEmail {
					t.Errorf("userinfo = %+v", ui)
				}
				// Introspection.
				in := r.Introspect(tk.OAuth.AccessToken)
				if in["active"] != true || !slices.Equal(amrOf(in["amr"]), []string{"pwd"}) || in["acr"] != "1fa" ||
					in["auth_time"] == nil || in["sub"] != userID {
					t.Errorf("introspection = %v", in)
				}
				// Refresh keeps amr, acr and auth_time.
				ts := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken})
				nt, err := ts.Token()
				if err != nil {
					t.Fatal(err)
				}
				if nt.RefreshToken == tk.OAuth.RefreshToken {
					t.Error("refresh token was not rotated")
				}
				rtk, err := r.Verify(nt, "")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(amrOf(rtk.Claims["amr"]), []string{"pwd"}) || rtk.Claims["acr"] != "1fa" ||
					rtk.Claims["auth_time"] != tk.Claims["auth_time"] {
					t.Errorf("refreshed ID token claims = %v", rtk.Claims)
				}
				in = r.Introspect(nt.AccessToken)
				if in["acr"] != "1fa" || in["auth_time"] != tk.Claims["auth_time"] {
					t.Errorf("introspection after refresh = %v", in)
				}
			})

			t.Run("SSO: prompt=none with a session succeeds silently, without one answers login_required", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start(oauth2.SetAuthURLParam("prompt", "none"))
				q := r.Callback(f, b.Get(f.AuthURL))
				if q.Get("error") != "login_required" {
					t.Fatalf("without session: %v", q)
				}
				f = r.Start()
				first := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				f = r.Start(oauth2.SetAuthURLParam("prompt", "none"))
				q = r.Callback(f, b.Get(f.AuthURL))
				if q.Get("code") == "" {
					t.Fatalf("with session: %v", q)
				}
				tk := r.MustExchange(f, q.Get("code"))
				if tk.Claims["auth_time"] != first.Claims["auth_time"] {
					t.Errorf("silent login auth_time %v, want the session's %v", tk.Claims["auth_time"], first.Claims["auth_time"])
				}
			})

			t.Run("prompt=login and max_age=0 ask for the password despite a session", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				for _, opt := range []oauth2.AuthCodeOption{
					oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"),
				} {
					f := r.Start(opt)
					p := b.Get(f.AuthURL)
					if !strings.Contains(p.Body, `name="password"`) {
						t.Fatalf("expected the password page, got %d", p.Status)
					}
				}
				// A generous max_age is satisfied by the session.
				f = r.Start(oauth2.SetAuthURLParam("max_age", "3600"))
				if q := r.Callback(f, b.Get(f.AuthURL)); q.Get("code") == "" {
					t.Fatalf("max_age=3600: %v", q)
				}
			})

			t.Run("max_age older than the session's password asks again; prompt=none then gets login_required", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				srv.Clock.Advance(2100 * time.Millisecond)
				f = r.Start(oauth2.SetAuthURLParam("max_age", "1"))
				if p := b.Get(f.AuthURL); !strings.Contains(p.Body, `name="password"`) {
					t.Fatalf("expected the password page, got %d", p.Status)
				}
				f = r.Start(oauth2.SetAuthURLParam("max_age", "1"), oauth2.SetAuthURLParam("prompt", "none"))
				if q := r.Callback(f, b.Get(f.AuthURL)); q.Get("error") != "login_required" {
					t.Fatalf("prompt=none max_age=1: %v", q)
				}
			})

			t.Run("login_hint prefills the email; id_token_hint of another user asks again", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start(oauth2.SetAuthURLParam("login_hint", "hint@example.com"))
				if p := b.Get(f.AuthURL); !strings.Contains(p.Body, `value="hint@example.com"`) {
					t.Errorf("login_hint not prefilled")
				}
				srv.CreateUser("bob@example.com", "bob password 123")
				bob := e2e.NewBrowser(t, redirectURI)
				f = r.Start()
				bobTok := r.MustExchange(f, r.Login(bob, f, "bob@example.com", "bob password 123"))
				f = r.Start()
				r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				f = r.Start(oauth2.SetAuthURLParam("prompt", "none"),
					oauth2.SetAuthURLParam("id_token_hint", bobTok.OAuth.Extra("id_token").(string)))
				if q := r.Callback(f, b.Get(f.AuthURL)); q.Get("error") != "login_required" {
					t.Fatalf("alice's session with bob's id_token_hint: %v", q)
				}
			})

			t.Run("a code redeemed twice fails and revokes the tokens issued from it", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, testEmail, testPassword)
				tk := r.MustExchange(f, code)
				if _, err := r.Exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("second redemption: %v", err)
				}
				if in := r.Introspect(tk.OAuth.AccessToken); in["active"] != false {
					t.Errorf("access token still active after code reuse: %v", in)
				}
				ts := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken})
				if _, err := ts.Token(); err == nil {
					t.Error("refresh token still works after code reuse")
				}
			})

			t.Run("a code is bound to its redirect URI and PKCE verifier", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, testEmail, testPassword)
				wrong := f
				wrong.Verifier = oauth2.GenerateVerifier()
				if _, err := r.Exchange(wrong, code); err == nil {
					t.Fatal("exchange with a wrong code_verifier succeeded")
				}
				f = r.Start()
				code = r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword)
				other := *r
				other.Config.RedirectURL = logoutURI // registered, but not the one the code was issued for
				if _, err := other.Exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("exchange with another redirect_uri: %v", err)
				}
			})

			t.Run("a completed login's code is issued only to the browser that completed it", func(t *testing.T) {
				callback := srv.URL + "/authorize/callback"
				b := e2e.NewBrowser(t, callback)
				f := r.Start()
				p := b.Submit(b.Get(f.AuthURL), map[string]string{"email": testEmail, "password": testPassword})
				loc := p.Redirect().String()
				if !strings.HasPrefix(loc, callback) {
					t.Fatalf("expected the callback, got %d %s", p.Status, loc)
				}
				thief := e2e.NewBrowser(t, redirectURI)
				if got := thief.Get(loc); got.Status != http.StatusBadRequest || !strings.Contains(got.Body, "Sign-in not completed") {
					t.Fatalf("callback in another browser answered %d", got.Status)
				}
				b.StopAt = redirectURI
				if q := r.Callback(f, b.Get(loc)); q.Get("code") == "" {
					t.Fatalf("callback in the right browser: %v", q)
				}
			})

			t.Run("refresh tokens rotate, and reuse revokes the family", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				first := tk.OAuth.RefreshToken
				second, err := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first}).Token()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first}).Token(); err == nil ||
					!strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("reused refresh token: %v", err)
				}
				if _, err := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: second.RefreshToken}).Token(); err == nil {
					t.Fatal("the family's newest refresh token still works after reuse")
				}
				if in := r.Introspect(second.AccessToken); in["active"] != false {
					t.Errorf("access token of the family still active: %v", in)
				}
			})

			t.Run("revocation ends access and refresh tokens", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				if code := r.Revoke(tk.OAuth.AccessToken, "access_token"); code != 200 {
					t.Fatalf("revoke access token: %d", code)
				}
				if in := r.Introspect(tk.OAuth.AccessToken); in["active"] != false {
					t.Errorf("revoked access token active: %v", in)
				}
				if code := r.Revoke(tk.OAuth.RefreshToken, "refresh_token"); code != 200 {
					t.Fatalf("revoke refresh token: %d", code)
				}
				if _, err := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken}).Token(); err == nil {
					t.Error("revoked refresh token still works")
				}
				if code := r.Revoke("no-such-token", "refresh_token"); code != 200 {
					t.Errorf("revoking an unknown token: %d, want 200 (RFC 7009 §2.2)", code)
				}
			})

			t.Run("logout ends the session and returns to the registered URI", func(t *testing.T) {
				b := e2e.NewBrowser(t, logoutURI)
				b.StopAt = redirectURI
				f := r.Start()
				tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
				b.StopAt = logoutURI
				q := url.Values{"id_token_hint": {tk.OAuth.Extra("id_token").(string)},
					"post_logout_redirect_uri": {logoutURI}, "state": {"bye"}}
				p := b.Get(srv.URL + "/end_session?" + q.Encode())
				if loc := p.Redirect(); p.Status != http.StatusFound || !strings.HasPrefix(loc.String(), logoutURI) {
					t.Fatalf("end_session: %d %s", p.Status, loc)
				}
				b.StopAt = redirectURI
				f = r.Start(oauth2.SetAuthURLParam("prompt", "none"))
				if q := r.Callback(f, b.Get(f.AuthURL)); q.Get("error") != "login_required" {
					t.Fatalf("after logout prompt=none: %v", q)
				}
			})

			t.Run("wrong password and unknown user get the same answer", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				var answers []*e2e.Page
				for _, email := range []string{testEmail, "nobody@example.com"} {
					f := r.Start()
					p := b.Submit(b.Get(f.AuthURL), map[string]string{"email": email, "password": "wrong password"})
					answers = append(answers, p)
				}
				// A disabled account, even with its right password.
				srv.CreateUser("gone@example.com", "gone password 123")
				srv.CLI("user", "disable", "gone@example.com")
				f := r.Start()
				answers = append(answers, b.Submit(b.Get(f.AuthURL), map[string]string{"email": "gone@example.com", "password": "gone password 123"}))
				for _, p := range answers {
					if !p.Refused("The email or password is not correct.") {
						t.Errorf("failed login answered %d:\n%s", p.Status, p.Body)
					}
				}
			})

			t.Run("a form without its CSRF token is refused", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := b.Get(f.AuthURL)
				p = b.Submit(p, map[string]string{"email": testEmail, "password": testPassword, "csrf_token": ""})
				if p.Status != http.StatusForbidden {
					t.Fatalf("missing CSRF token answered %d", p.Status)
				}
			})

			t.Run("bad authorization requests never redirect to unregistered URIs", func(t *testing.T) {
				b := e2e.NewBrowser(t, "http://evil.example/")
				cases := map[string]url.Values{
					"unknown redirect_uri": {"client_id": {r.Config.ClientID}, "redirect_uri": {"http://evil.example/cb"}},
					"unknown client_id":    {"client_id": {"nope"}, "redirect_uri": {redirectURI}},
				}
				for name, q := range cases {
					q.Set("response_type", "code")
					q.Set("scope", "openid")
					q.Set("state", "s")
					p := b.Get(srv.URL + "/authorize?" + q.Encode())
					if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" ||
						!strings.Contains(p.Body, "Invalid sign-in request") || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
						t.Errorf("%s: %d Location=%q\n%s", name, p.Status, p.Header.Get("Location"), p.Body)
					}
				}
				// plain PKCE is refused (the error goes to the registered URI).
				b.StopAt = redirectURI
				f := r.Start()
				u, _ := url.Parse(f.AuthURL)
				q := u.Query()
				q.Set("code_challenge", strings.Repeat("a", 43))
				q.Set("code_challenge_method", "plain")
				u.RawQuery = q.Encode()
				if q := r.Callback(f, b.Get(u.String())); q.Get("error") != "invalid_request" {
					t.Errorf("plain PKCE: %v", q)
				}
			})

			t.Run("a public client must use PKCE", func(t *testing.T) {
				c := srv.CreateClient("--name", "SPA", "--public", "--redirect-uri", redirectURI)
				pub := e2e.NewRP(t, srv, c)
				b := e2e.NewBrowser(t, redirectURI)
				u := pub.Config.AuthCodeURL("s1")
				p := b.Get(u)
				q := p.Redirect().Query()
				if q.Get("error") != "invalid_request" {
					t.Errorf("public client without PKCE: %d %v", p.Status, q)
				}
				f := pub.Start()
				tk := pub.MustExchange(f, pub.Login(b, f, testEmail, testPassword))
				if tk.ID.Subject != userID {
					t.Errorf("public client login sub = %s", tk.ID.Subject)
				}
				// Introspection is for confidential clients only.
				if in := pub.Introspect(tk.OAuth.AccessToken); in["active"] == true {
					t.Errorf("a public client could introspect: %v", in)
				}
			})
		})
	}
}
