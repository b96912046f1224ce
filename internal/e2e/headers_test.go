package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
)

// Every response says nosniff; every token response, success or error,
// says no-store (RFC 6749 §5.1).
func TestSecurityHeaders(t *testing.T) {
	eng := e2e.SQLite // what this checks does not depend on the engine
	srv, r, _ := setup(t, eng)
	b := e2e.NewBrowser(t, redirectURI)
	f := r.Start()
	code := r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword)
	tokenURL := r.Provider.Endpoint().TokenURL
	token := func(form url.Values) *e2e.Page {
		req := e2e.NewFormRequest(t, tokenURL, form)
		req.SetBasicAuth(url.QueryEscape(r.Config.ClientID), url.QueryEscape(r.Config.ClientSecret))
		return b.Do(req)
	}
	ok := token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {f.Verifier}})
	if ok.Status != http.StatusOK {
		t.Fatalf("token: %d %s", ok.Status, ok.Body)
	}
	var tk struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal([]byte(ok.Body), &tk)
	userinfo, _ := http.NewRequest("GET", srv.URL+"/userinfo", nil)
	userinfo.Header.Set("Authorization", "Bearer "+tk.AccessToken)

	responses := map[string]*e2e.Page{
		"discovery":               b.Get(srv.URL + "/.well-known/openid-configuration"),
		"jwks":                    b.Get(srv.URL + "/keys"),
		"token (code)":            ok,
		"token (refresh)":         token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}),
		"token (error)":           token(url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}),
		"userinfo":                b.Do(userinfo),
		"static file":             b.Get(srv.URL + "/static/style.css"),
		"login page":              e2e.NewBrowser(t, redirectURI).Get(r.Start().AuthURL),
		"error page":              b.Get(srv.URL + "/authorize?client_id=nope"),
		"health":                  b.Get(srv.URL + "/healthz"),
		"not found":               b.Get(srv.URL + "/no-such-page"),
		"introspection":           b.Do(e2e.NewFormRequest(t, srv.URL+"/oauth/introspect", url.Values{"token": {"x"}})),
		"revocation without auth": b.Do(e2e.NewFormRequest(t, srv.URL+"/revoke", url.Values{"token": {"x"}})),
	}
	for name, p := range responses {
		if got := p.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options %q", name, p.Status, got)
		}
		if strings.HasPrefix(name, "token") && p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", name, p.Status, p.Header.Get("Cache-Control"))
		}
	}
	if responses["token (refresh)"].Status != http.StatusOK {
		t.Errorf("refresh: %d %s", responses["token (refresh)"].Status, responses["token (refresh)"].Body)
	}
}

// In JSON mode every line the server writes is JSON, the OIDC library's own
// lines included.
func TestJSONLogsOnly(t *testing.T) {
	// The commands log JSON too, to their standard error; what they print
	// for the test to parse is on their standard output.
	srv := e2e.Start(t, e2e.Options{Args: []string{"--log-format", "json"}})
	srv.CreateUser(testEmail, testPassword)
	r := e2e.NewRP(t, srv, srv.CreateClient("--name", "App", "--redirect-uri", redirectURI))
	f := r.Start()
	code := r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword)
	// Requests the library itself logs about.
	if _, err := r.In(t).Exchange(e2e.Flow{Verifier: f.Verifier}, "not-a-code"); err == nil {
		t.Fatal("a made-up code was accepted")
	}
	http.Get(srv.URL + "/authorize?client_id=nope&redirect_uri=http://evil.example/")
	r.MustExchange(f, code)
	srv.Stop()

	var library bool
	for _, line := range strings.Split(strings.TrimSpace(srv.Logs()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not a JSON line: %s", line)
			continue
		}
		if m["msg"] == "request error" || strings.HasPrefix(m["msg"].(string), "auth request") {
			library = true
		}
	}
	if !library {
		t.Errorf("the library's own log lines are not in the server's log:\n%s", srv.Logs())
	}
}
