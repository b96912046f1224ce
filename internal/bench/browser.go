package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// requestTimeout bounds every request the load generator sends.
const requestTimeout = 30 * time.Second

// maxBody is the most the generator reads of an answer.
const maxBody = 1 << 20

// endpoints are the server's, as its discovery document names them.
type endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Introspection string `json:"introspection_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

// app is a client application as the benchmark signs in to it.
type app struct {
	id, secret  string
	redirectURI string
}

// tokens are what a token response gave.
type tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
}

// agent drives one server over a shared connection pool. Each login opens a
// new browser on it: a client with its own cookie jar.
type agent struct {
	ep        endpoints
	transport http.RoundTripper
}

func newTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * concurrency
	t.MaxIdleConnsPerHost = 4 * concurrency
	return t
}

// plain is a client without cookies that follows no redirect, for the
// protocol endpoints.
func (a *agent) plain() *http.Client {
	return &http.Client{Transport: a.transport, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browser is a new cookie-keeping client that follows redirects, as a
// browser does after a form POST, but stops at the application's redirect
// URI: that redirect is the answer the login reads its code from.
func (a *agent) browser(stopAt string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: a.transport, Jar: jar, Timeout: requestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), stopAt) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("more than 10 redirects")
			}
			return nil
		}}
}

// answer is a response with its body read.
type answer struct {
	status int
	url    *url.URL // after the redirects followed
	header http.Header
	body   []byte
}

func do(c *http.Client, req *http.Request) (*answer, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: body}, nil
}

func get(ctx context.Context, c *http.Client, u string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return do(c, req)
}

// post sends form as a form submission does; with an app, authenticated as
// that client (HTTP Basic, RFC 6749 §2.3.1).
func post(ctx context.Context, c *http.Client, u string, form url.Values, as *app) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if as != nil {
		req.SetBasicAuth(url.QueryEscape(as.id), url.QueryEscape(as.secret))
	}
	return do(c, req)
}

// discover reads the server's discovery document.
func discover(ctx context.Context, c *http.Client, issuer string) (endpoints, []byte, error) {
	var ep endpoints
	a, err := get(ctx, c, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return ep, nil, err
	}
	if a.status != http.StatusOK {
		return ep, nil, fmt.Errorf("discovery answered %d", a.status)
	}
	if err := json.Unmarshal(a.body, &ep); err != nil {
		return ep, nil, fmt.Errorf("discovery: %w", err)
	}
	if ep.Authorization == "" || ep.Token == "" || ep.Introspection == "" || ep.JWKS == "" {
		return ep, nil, errors.New("discovery lacks an authorization, token, introspection or jwks endpoint")
	}
	return ep, a.body, nil
}

// login runs one login in a new browser: the authorization request with
// PKCE S256, state and nonce; the password page, its form filled in; the
// TOTP page when code is set, with the code it gives at that moment; the
// redirect back to the application; and the token request that redeems the
// code. steps are the durations of those four requests (three without
// TOTP), each with the redirects it followed.
func (a *agent) login(ctx context.Context, to app, scope, email, password string, code func() string) (*tokens, []time.Duration, error) {
	b := a.browser(to.redirectURI)
	verifier := oauth2.GenerateVerifier()
	state, nonce := randomHex(), randomHex()
	q := url.Values{
		"client_id": {to.id}, "redirect_uri": {to.redirectURI}, "response_type": {"code"}, "scope": {scope},
		"state": {state}, "nonce": {nonce},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
	var steps []time.Duration
	t := time.Now()
	lap := func() {
		now := time.Now()
		steps = append(steps, now.Sub(t))
		t = now
	}

	page, err := get(ctx, b, a.ep.Authorization+"?"+q.Encode())
	if err != nil {
		return nil, nil, fmt.Errorf("authorize: %w", err)
	}
	action, fields, err := page.form("/login/password")
	if err != nil {
		return nil, nil, fmt.Errorf("authorize: %w", err)
	}
	lap()
	fields.Set("email", email)
	fields.Set("password", password)
	next, err := post(ctx, b, action, fields, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("password: %w", err)
	}
	if code != nil {
		if action, fields, err = next.form("/login/otp"); err != nil {
			return nil, nil, fmt.Errorf("password: %w", err)
		}
		lap()
		fields.Set("code", code())
		if next, err = post(ctx, b, action, fields, nil); err != nil {
			return nil, nil, fmt.Errorf("totp: %w", err)
		}
	}
	back, err := next.redirectTo(to.redirectURI)
	if err != nil {
		if code != nil {
			return nil, nil, fmt.Errorf("totp: %w", err)
		}
		return nil, nil, fmt.Errorf("password: %w", err)
	}
	lap()
	if back.Get("state") != state {
		return nil, nil, errors.New("callback: state does not match")
	}
	if back.Get("code") == "" {
		return nil, nil, fmt.Errorf("callback: no code (error %q)", back.Get("error"))
	}
	tk, err := a.token(ctx, to, url.Values{"grant_type": {"authorization_code"}, "code": {back.Get("code")},
		"redirect_uri": {to.redirectURI}, "code_verifier": {verifier}})
	if err != nil {
		return nil, nil, fmt.Errorf("code exchange: %w", err)
	}
	lap()
	return tk, steps, nil
}

// token sends a token request as the client and checks the answer has an
// access token and an ID token (and a new refresh token when rotating one).
func (a *agent) token(ctx context.Context, as app, form url.Values) (*tokens, error) {
	ans, err := post(ctx, a.plain(), a.ep.Token, form, &as)
	if err != nil {
		return nil, err
	}
	if ans.status != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", ans.status, oauthError(ans.body))
	}
	var tk tokens
	if err := json.Unmarshal(ans.body, &tk); err != nil {
		return nil, err
	}
	if tk.AccessToken == "" || tk.IDToken == "" {
		return nil, errors.New("no access token or ID token in the answer")
	}
	if old := form.Get("refresh_token"); old != "" && (tk.RefreshToken == "" || tk.RefreshToken == old) {
		return nil, errors.New("the refresh token was not rotated")
	}
	return &tk, nil
}

// introspect asks whether token is active, as the client as.
func (a *agent) introspect(ctx context.Context, as app, token string) error {
	ans, err := post(ctx, a.plain(), a.ep.Introspection, url.Values{"token": {token}}, &as)
	if err != nil {
		return err
	}
	if ans.status != http.StatusOK {
		return fmt.Errorf("status %d: %s", ans.status, oauthError(ans.body))
	}
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(ans.body, &in); err != nil {
		return err
	}
	if !in.Active {
		return errors.New("the token is not active")
	}
	return nil
}

// fetch gets u and checks the answer is want, byte for byte.
func fetch(ctx context.Context, c *http.Client, u string, want []byte) error {
	ans, err := get(ctx, c, u)
	if err != nil {
		return err
	}
	if ans.status != http.StatusOK {
		return fmt.Errorf("status %d", ans.status)
	}
	if !bytes.Equal(ans.body, want) {
		return errors.New("the answer differs from the first one")
	}
	return nil
}

// oauthError is the error code of an OAuth error answer, for the report.
func oauthError(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return "no OAuth error code"
}

// form finds the form on the page that submits to a path ending in path,
// and returns where it submits and its hidden fields (the CSRF token, the
// request's ID) as a browser would send them.
func (a *answer) form(path string) (string, url.Values, error) {
	z := html.NewTokenizer(bytes.NewReader(a.body))
	var action *url.URL
	fields := url.Values{}
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", nil, a.unexpected("no form to " + path)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := attributes(z, hasAttr)
			switch string(name) {
			case "form":
				action = nil
				if u, err := a.url.Parse(attrs["action"]); err == nil && strings.HasSuffix(u.Path, path) {
					action = u
					fields = url.Values{}
				}
			case "input":
				if action != nil && attrs["type"] == "hidden" && attrs["name"] != "" {
					fields.Add(attrs["name"], attrs["value"])
				}
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "form" && action != nil {
				return action.String(), fields, nil
			}
		}
	}
}

func attributes(z *html.Tokenizer, hasAttr bool) map[string]string {
	attrs := map[string]string{}
	for hasAttr {
		k, v, more := z.TagAttr()
		attrs[string(k)] = string(v)
		hasAttr = more
	}
	return attrs
}

// redirectTo checks the answer redirects to the application's redirect
// URI and returns that redirect's query.
func (a *answer) redirectTo(redirectURI string) (url.Values, error) {
	if a.status != http.StatusFound && a.status != http.StatusSeeOther {
		return nil, a.unexpected("no redirect to the application")
	}
	loc, err := a.url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectURI) {
		return nil, a.unexpected("no redirect to the application")
	}
	return loc.Query(), nil
}

// unexpected describes an answer the login did not expect: its status and
// the page's alert or title, never anything the page was sent.
func (a *answer) unexpected(what string) error {
	if msg := pageMessage(a.body); msg != "" {
		return fmt.Errorf("%s: status %d, %q", what, a.status, msg)
	}
	return fmt.Errorf("%s: status %d", what, a.status)
}

// pageMessage is the text of a page's role="alert" element, or else its
// title.
func pageMessage(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	var title string
	var in string // "alert" or "title" while inside one
	for {
		switch z.Next() {
		case html.ErrorToken:
			return title
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			if attributes(z, hasAttr)["role"] == "alert" {
				in = "alert"
			} else if string(name) == "title" && title == "" {
				in = "title"
			}
		case html.TextToken:
			text := strings.Join(strings.Fields(string(z.Text())), " ")
			switch in {
			case "alert":
				return text
			case "title":
				title = text
			}
		case html.EndTagToken:
			in = ""
		}
	}
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
