package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
)

// Token and userinfo errors say what RFC 6749 §5.2 and RFC 6750 §3 ask, and
// malformed input is the client's error, never a 500.
func TestProtocolErrors(t *testing.T) {
	eng := e2e.SQLite // what this checks does not depend on the engine
	srv, r, _ := setup(t, eng)
	f := r.Start()
	tk := r.MustExchange(f, r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
	tokenURL := r.Provider.Endpoint().TokenURL
	b := e2e.NewBrowser(t, redirectURI)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.OAuth.RefreshToken}}

	t.Run("a 401 from /token carries WWW-Authenticate", func(t *testing.T) {
		req := e2e.NewFormRequest(t, tokenURL, refresh)
		req.SetBasicAuth(r.Config.ClientID, "wrong secret")
		p := b.Do(req)
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `"invalid_client"`) ||
			!strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("wrong secret: %d WWW-Authenticate=%q %s", p.Status, p.Header.Get("WWW-Authenticate"), p.Body)
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
				*req = *e2e.NewFormRequest(t, tokenURL, form)
			},
			"unknown client in Basic": func(req *http.Request) { req.SetBasicAuth("nope-client", "secret") },
		}
		for name, set := range cases {
			req := e2e.NewFormRequest(t, tokenURL, refresh)
			set(req)
			p := b.Do(req)
			if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, `"invalid_client"`) {
				t.Errorf("%s: %d %s", name, p.Status, p.Body)
			}
			if strings.Contains(p.Body, "nope-client") {
				t.Errorf("%s: the client ID is echoed: %s", name, p.Body)
			}
		}
	})

	t.Run("a 401 from /userinfo carries WWW-Authenticate", func(t *testing.T) {
		for name, auth := range map[string]string{"no token": "", "a bad token": "Bearer not-a-token"} {
			req, _ := http.NewRequest("GET", srv.URL+"/userinfo", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			p := b.Do(req)
			if p.Status != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d WWW-Authenticate=%q", name, p.Status, p.Header.Get("WWW-Authenticate"))
			}
		}
		// A revoked token is invalid, said as such.
		r.Revoke(tk.OAuth.AccessToken, "access_token")
		req, _ := http.NewRequest("GET", srv.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tk.OAuth.AccessToken)
		p := b.Do(req)
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("revoked token: %d WWW-Authenticate=%q %s", p.Status, p.Header.Get("WWW-Authenticate"), p.Body)
		}
	})

	t.Run("the token endpoint does not grant an arbitrary origin credentialed access", func(t *testing.T) {
		for _, method := range []string{"OPTIONS", "POST"} {
			req := e2e.NewFormRequest(t, tokenURL, refresh)
			req.Method = method
			req.Header.Set("Origin", "https://evil.example")
			req.Header.Set("Access-Control-Request-Method", "POST")
			p := b.Do(req)
			if p.Header.Get("Access-Control-Allow-Credentials") == "true" {
				t.Errorf("%s: credentials allowed for %q", method, p.Header.Get("Access-Control-Allow-Origin"))
			}
			if p.Header.Get("Access-Control-Allow-Origin") == "https://evil.example" {
				t.Errorf("%s: the origin is reflected", method)
			}
		}
	})

	t.Run("a malformed end_session query is 400, without the parser's message", func(t *testing.T) {
		p := e2e.NewBrowser(t, logoutURI).Get(srv.URL + "/end_session?x=%zz")
		if p.Status != http.StatusBadRequest || strings.Contains(p.Body, "invalid URL escape") {
			t.Errorf("end_session?x=%%zz: %d %s", p.Status, p.Body)
		}
	})

	t.Run("reloading the callback after the code was issued shows a page", func(t *testing.T) {
		callback := srv.URL + "/authorize/callback"
		br := e2e.NewBrowser(t, callback)
		f := r.Start()
		p := br.Submit(br.Get(f.AuthURL), map[string]string{"email": testEmail, "password": testPassword})
		loc := p.Redirect().String()
		br.StopAt = redirectURI
		if q := r.In(t).Callback(f, br.Get(loc)); q.Get("code") == "" {
			t.Fatalf("first callback: %v", q)
		}
		again := br.Get(loc)
		if again.Status != http.StatusBadRequest || !strings.HasPrefix(again.Header.Get("Content-Type"), "text/html") ||
			again.Header.Get("Location") != "" || strings.Contains(again.Body, "conflict") {
			t.Errorf("reloaded callback: %d Location=%q\n%s", again.Status, again.Header.Get("Location"), again.Body)
		}
	})
}
