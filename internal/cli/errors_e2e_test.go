package cli

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Token and userinfo errors say what RFC 6749 §5.2 and RFC 6750 §3 ask, and
// malformed input is the client's error, never a 500.
func TestProtocolErrors(t *testing.T) {
	_, database := firstEngine(t)
	srv, r, _ := setup(t, database)
	f := r.start()
	tk := r.mustExchange(f, r.login(newBrowser(t, redirectURI), f, testEmail, testPassword))
	tokenURL := r.provider.Endpoint().TokenURL
	b := newBrowser(t, redirectURI)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.oauth.RefreshToken}}

	t.Run("a 401 from /token carries WWW-Authenticate", func(t *testing.T) {
		req := newFormRequest(t, tokenURL, refresh)
		req.SetBasicAuth(r.conf.ClientID, "wrong secret")
		p := b.do(req)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `"invalid_client"`) ||
			!strings.HasPrefix(p.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("wrong secret: %d WWW-Authenticate=%q %s", p.status, p.header.Get("WWW-Authenticate"), p.body)
		}
	})

	t.Run("a refresh grant with missing, malformed or unknown client authentication is 401 invalid_client", func(t *testing.T) {
		cases := map[string]func(*http.Request){
			"no client authentication":  func(*http.Request) {},
			"Basic with no value":       func(req *http.Request) { req.Header.Set("Authorization", "Basic") },
			"Basic with an empty value": func(req *http.Request) { req.Header.Set("Authorization", "Basic ") },
			"Basic that is not base64":  func(req *http.Request) { req.Header.Set("Authorization", "Basic %%%") },
			"Basic without a colon":     func(req *http.Request) { req.Header.Set("Authorization", "Basic bm9jb2xvbg==") },
			"unknown client_id in the form": func(req *http.Request) {
				req.Body = http.NoBody
				form := url.Values{"client_id": {"nope-client"}}
				for k, v := range refresh {
					form[k] = v
				}
				*req = *newFormRequest(t, tokenURL, form)
			},
			"unknown client in Basic": func(req *http.Request) { req.SetBasicAuth("nope-client", "secret") },
		}
		for name, set := range cases {
			req := newFormRequest(t, tokenURL, refresh)
			set(req)
			p := b.do(req)
			if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `"invalid_client"`) {
				t.Errorf("%s: %d %s", name, p.status, p.body)
			}
			if strings.Contains(p.body, "nope-client") {
				t.Errorf("%s: the client ID is echoed: %s", name, p.body)
			}
		}
	})

	t.Run("a 401 from /userinfo carries WWW-Authenticate", func(t *testing.T) {
		for name, auth := range map[string]string{"no token": "", "a bad token": "Bearer not-a-token"} {
			req, _ := http.NewRequest("GET", srv.issuer+"/userinfo", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			p := b.do(req)
			if p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d WWW-Authenticate=%q", name, p.status, p.header.Get("WWW-Authenticate"))
			}
		}
		// A revoked token is invalid, said as such.
		r.revoke(tk.oauth.AccessToken, "access_token")
		req, _ := http.NewRequest("GET", srv.issuer+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tk.oauth.AccessToken)
		p := b.do(req)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("revoked token: %d WWW-Authenticate=%q %s", p.status, p.header.Get("WWW-Authenticate"), p.body)
		}
	})

	t.Run("the token endpoint does not grant an arbitrary origin credentialed access", func(t *testing.T) {
		for _, method := range []string{"OPTIONS", "POST"} {
			req := newFormRequest(t, tokenURL, refresh)
			req.Method = method
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Access-Control-Request-Method", "POST")
			p := b.do(req)
			if p.header.Get("Access-Control-Allow-Credentials") == "true" {
				t.Errorf("%s: credentials allowed for %q", method, p.header.Get("Access-Control-Allow-Origin"))
			}
			if p.header.Get("Access-Control-Allow-Origin") == "https://evil.example" {
				t.Errorf("%s: the origin is reflected", method)
			}
		}
	})

	t.Run("a malformed end_session query is 400, without the parser's message", func(t *testing.T) {
		p := newBrowser(t, logoutURI).get(srv.issuer + "/end_session?x=%zz")
		if p.status != http.StatusBadRequest || strings.Contains(p.body, "invalid URL escape") {
			t.Errorf("end_session?x=%%zz: %d %s", p.status, p.body)
		}
	})

	t.Run("reloading the callback after the code was issued shows a page", func(t *testing.T) {
		callback := srv.issuer + "/authorize/callback"
		br := newBrowser(t, callback)
		f := r.start()
		p := br.submit(br.get(f.authURL), map[string]string{"email": testEmail, "password": testPassword})
		loc := p.url.ResolveReference(p.redirect()).String()
		br.stopAt = redirectURI
		if q := r.in(t).callback(f, br.get(loc)); q.Get("code") == "" {
			t.Fatalf("first callback: %v", q)
		}
		again := br.get(loc)
		if again.status != http.StatusBadRequest || !strings.HasPrefix(again.header.Get("Content-Type"), "text/html") ||
			again.header.Get("Location") != "" || strings.Contains(again.body, "conflict") {
			t.Errorf("reloaded callback: %d Location=%q\n%s", again.status, again.header.Get("Location"), again.body)
		}
	})
}
