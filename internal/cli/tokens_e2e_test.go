package cli

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// JWT access tokens are explicitly typed at+jwt (RFC 9068 §2.1); ID tokens
// keep typ JWT, so neither can pass for the other.
func TestAccessTokenTypeHeader(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, userID := setup(t, database)
			f := r.start()
			tk := r.mustExchange(f, r.login(newBrowser(t, redirectURI), f, testEmail, testPassword))
			if h, _ := jwtClaims(t, tk.oauth.AccessToken); h["typ"] != "at+jwt" {
				t.Errorf("access token header %v, want typ at+jwt", h)
			}
			if h, _ := jwtClaims(t, tk.oauth.Extra("id_token").(string)); h["typ"] != "JWT" {
				t.Errorf("ID token header %v, want typ JWT", h)
			}
			// Refreshed access tokens are typed too.
			nt, err := r.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tk.oauth.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if h, _ := jwtClaims(t, nt.AccessToken); h["typ"] != "at+jwt" {
				t.Errorf("refreshed access token header %v, want typ at+jwt", h)
			}

			t.Run("opaque access tokens stay opaque and work", func(t *testing.T) {
				o := newRP(t, srv, srv.createClient("--name", "Opaque", "--redirect-uri", redirectURI, "--token-format", "opaque"))
				f := o.start()
				tk := o.mustExchange(f, o.login(newBrowser(t, redirectURI), f, testEmail, testPassword))
				if strings.Count(tk.oauth.AccessToken, ".") == 2 {
					t.Errorf("opaque client got a JWT access token")
				}
				ui, err := o.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tk.oauth))
				if err != nil || ui.Subject != userID {
					t.Errorf("userinfo with an opaque token: %v %+v", err, ui)
				}
				if in := o.introspect(tk.oauth.AccessToken); in["active"] != true {
					t.Errorf("introspection of an opaque token: %v", in)
				}
			})
		})
	}
}
