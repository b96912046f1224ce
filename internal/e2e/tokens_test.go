package e2e_test

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

// JWT access tokens are explicitly typed at+jwt (RFC 9068 §2.1); ID tokens
// keep typ JWT, so neither can pass for the other.
func TestAccessTokenTypeHeader(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, userID := setup(t, eng)
			f := r.Start()
			tk := r.MustExchange(f, r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
			if h, _ := jwtClaims(t, tk.OAuth.AccessToken); h["typ"] != "at+jwt" {
				t.Errorf("access token header %v, want typ at+jwt", h)
			}
			if h, _ := jwtClaims(t, tk.OAuth.Extra("id_token").(string)); h["typ"] != "JWT" {
				t.Errorf("ID token header %v, want typ JWT", h)
			}
			// Refreshed access tokens are typed too.
			nt, err := r.Config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if h, _ := jwtClaims(t, nt.AccessToken); h["typ"] != "at+jwt" {
				t.Errorf("refreshed access token header %v, want typ at+jwt", h)
			}

			t.Run("opaque access tokens stay opaque and work", func(t *testing.T) {
				o := e2e.NewRP(t, srv, srv.CreateClient("--name", "Opaque", "--redirect-uri", redirectURI, "--token-format", "opaque"))
				f := o.Start()
				tk := o.MustExchange(f, o.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
				if strings.Count(tk.OAuth.AccessToken, ".") == 2 {
					t.Errorf("opaque client got a JWT access token")
				}
				ui, err := o.Provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tk.OAuth))
				if err != nil || ui.Subject != userID {
					t.Errorf("userinfo with an opaque token: %v %+v", err, ui)
				}
				if in := o.Introspect(tk.OAuth.AccessToken); in["active"] != true {
					t.Errorf("introspection of an opaque token: %v", in)
				}
			})
		})
	}
}
