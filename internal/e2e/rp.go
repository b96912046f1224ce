package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The relying party's URIs: on a port nothing listens on, so a browser
// stopped at them (Browser.StopAt) is where the test reads the answer.
const (
	RedirectURI = "http://127.0.0.1:9/callback"
	LogoutURI   = "http://127.0.0.1:9/bye"
)

// RP is a relying party built from go-oidc and x/oauth2, as an application
// integrating StepGate is: it starts authorization requests, reads the
// callback, redeems codes and verifies what it gets.
type RP struct {
	Server   *Server
	Provider *oidc.Provider
	Verifier *oidc.IDTokenVerifier
	Config   oauth2.Config

	t testing.TB
}

// NewRP is the relying party of client c, redirected to RedirectURI, asking
// for openid, email, profile and offline_access. Its ID token verifier reads
// the server's clock.
func NewRP(t testing.TB, s *Server, c Client) *RP {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &RP{t: t, Server: s, Provider: p,
		Verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID, Now: s.Clock.Now}),
		Config: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: RedirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess}}}
}

// In is the relying party reporting to the (sub)test t.
func (r *RP) In(t testing.TB) *RP {
	c := *r
	c.t = t
	return &c
}

// Flow is one authorization request in progress.
type Flow struct {
	State, Nonce, Verifier string
	// AuthURL is the authorization request a browser opens.
	AuthURL string
}

// Start begins an authorization request with state, nonce and PKCE (S256),
// plus opts (prompt, acr_values…).
func (r *RP) Start(opts ...oauth2.AuthCodeOption) Flow {
	f := Flow{State: randomHex(), Nonce: randomHex(), Verifier: oauth2.GenerateVerifier()}
	all := append([]oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}, opts...)
	f.AuthURL = r.Config.AuthCodeURL(f.State, all...)
	return f
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Callback checks the browser was sent back to the relying party with the
// flow's state and returns the query it carried (code, or error).
func (r *RP) Callback(f Flow, p *Page) url.Values {
	r.t.Helper()
	if p.Status != http.StatusFound && p.Status != http.StatusSeeOther {
		r.t.Fatalf("expected a redirect to the client, got %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	return r.CallbackAt(f, p.Redirect())
}

// CallbackAt checks that u, where a browser was sent (Chrome.StoppedAt), is
// the relying party's redirect URI with the flow's state, and returns the
// query it carried (code, or error).
func (r *RP) CallbackAt(f Flow, u *url.URL) url.Values {
	r.t.Helper()
	if u == nil || !strings.HasPrefix(u.String(), r.Config.RedirectURL) {
		r.t.Fatalf("redirected to %v, not the client", u)
	}
	q := u.Query()
	if q.Get("state") != f.State {
		r.t.Fatalf("state %q, want %q", q.Get("state"), f.State)
	}
	return q
}

// Login runs the whole browser flow with a password and returns the code.
func (r *RP) Login(b *Browser, f Flow, email, password string) string {
	r.t.Helper()
	p := b.Get(f.AuthURL)
	form := p.Form(WithAction("/login/password"))
	q := r.Callback(f, form.Set("email", email).Set("password", password).Submit())
	if q.Get("code") == "" {
		r.t.Fatalf("no code in %v", q)
	}
	return q.Get("code")
}

// Tokens are what a token response gave, the ID token verified.
type Tokens struct {
	OAuth  *oauth2.Token
	ID     *oidc.IDToken
	Claims map[string]any // the ID token's
}

// IDToken is the raw ID token.
func (tk Tokens) IDToken() string {
	s, _ := tk.OAuth.Extra("id_token").(string)
	return s
}

// Exchange redeems code with the flow's PKCE verifier and verifies the ID
// token and its nonce.
func (r *RP) Exchange(f Flow, code string) (Tokens, error) {
	tok, err := r.Config.Exchange(context.Background(), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Tokens{}, err
	}
	return r.Verify(tok, f.Nonce)
}

// MustExchange is Exchange failing the test on an error.
func (r *RP) MustExchange(f Flow, code string) Tokens {
	r.t.Helper()
	tk, err := r.Exchange(f, code)
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return tk
}

// Verify verifies tok's ID token, and its nonce unless nonce is "".
func (r *RP) Verify(tok *oauth2.Token, nonce string) (Tokens, error) {
	r.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	id, err := r.Verifier.Verify(context.Background(), raw)
	if err != nil {
		return Tokens{}, err
	}
	if nonce != "" && id.Nonce != nonce {
		r.t.Fatalf("nonce %q, want %q", id.Nonce, nonce)
	}
	var claims map[string]any
	if err := id.Claims(&claims); err != nil {
		return Tokens{}, err
	}
	return Tokens{OAuth: tok, ID: id, Claims: claims}, nil
}

// Refresh redeems a refresh token.
func (r *RP) Refresh(refreshToken string) (*oauth2.Token, error) {
	return r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// Introspect asks the introspection endpoint about a token with the
// client's credentials.
func (r *RP) Introspect(token string) map[string]any {
	r.t.Helper()
	resp := r.basic("/oauth/introspect", url.Values{"token": {token}})
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out
}

// Revoke revokes a token (RFC 7009) and returns the status.
func (r *RP) Revoke(token, hint string) int {
	r.t.Helper()
	resp := r.basic("/revoke", url.Values{"token": {token}, "token_type_hint": {hint}})
	resp.Body.Close()
	return resp.StatusCode
}

// basic posts form to the server's path with the client's credentials.
func (r *RP) basic(path string, form url.Values) *http.Response {
	r.t.Helper()
	req := NewFormRequest(r.t, r.Server.URL+path, form)
	r.SetBasicAuth(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp
}

// SetBasicAuth authenticates req as the client (client_secret_basic).
func (r *RP) SetBasicAuth(req *http.Request) *http.Request {
	req.SetBasicAuth(url.QueryEscape(r.Config.ClientID), url.QueryEscape(r.Config.ClientSecret))
	return req
}
