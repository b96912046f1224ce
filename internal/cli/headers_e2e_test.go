package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every response says nosniff; every token response, success or error,
// says no-store (RFC 6749 §5.1).
func TestSecurityHeaders(t *testing.T) {
	_, database := firstEngine(t)
	srv, r, _ := setup(t, database)
	b := newBrowser(t, redirectURI)
	f := r.start()
	code := r.login(newBrowser(t, redirectURI), f, testEmail, testPassword)
	tokenURL := r.provider.Endpoint().TokenURL
	token := func(form url.Values) page {
		req := newFormRequest(t, tokenURL, form)
		req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
		return b.do(req)
	}
	ok := token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {f.verifier}})
	if ok.status != http.StatusOK {
		t.Fatalf("token: %d %s", ok.status, ok.body)
	}
	var tk struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	json.Unmarshal([]byte(ok.body), &tk)
	userinfo, _ := http.NewRequest("GET", srv.issuer+"/userinfo", nil)
	userinfo.Header.Set("Authorization", "Bearer "+tk.AccessToken)

	responses := map[string]page{
		"discovery":               b.get(srv.issuer + "/.well-known/openid-configuration"),
		"jwks":                    b.get(srv.issuer + "/keys"),
		"token (code)":            ok,
		"token (refresh)":         token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}),
		"token (error)":           token(url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}}),
		"userinfo":                b.do(userinfo),
		"static file":             b.get(srv.issuer + "/static/style.css"),
		"login page":              newBrowser(t, redirectURI).get(r.start().authURL),
		"error page":              b.get(srv.issuer + "/authorize?client_id=nope"),
		"health":                  b.get(srv.issuer + "/healthz"),
		"not found":               b.get(srv.issuer + "/no-such-page"),
		"introspection":           b.do(newFormRequest(t, srv.issuer+"/oauth/introspect", url.Values{"token": {"x"}})),
		"revocation without auth": b.do(newFormRequest(t, srv.issuer+"/revoke", url.Values{"token": {"x"}})),
	}
	for name, p := range responses {
		if got := p.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options %q", name, p.status, got)
		}
		if strings.HasPrefix(name, "token") && p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", name, p.status, p.header.Get("Cache-Control"))
		}
	}
	if responses["token (refresh)"].status != http.StatusOK {
		t.Errorf("refresh: %d %s", responses["token (refresh)"].status, responses["token (refresh)"].body)
	}
}

// In JSON mode every line the server writes is JSON, the OIDC library's own
// lines included.
func TestJSONLogsOnly(t *testing.T) {
	_, database := firstEngine(t)
	dir := t.TempDir()
	addr := freePort(t)
	srv := &testServer{t: t, issuer: "http://" + addr, dataDir: dir, logs: &syncBuffer{}, stdout: io.Discard,
		args: []string{"--dev", "--data-dir", dir, "--database", database(t, dir), "--listen", addr,
			"--issuer", "http://" + addr, "--log-level", "debug", "--log-format", "json"}}
	srv.start()
	srv.args = srv.args[:len(srv.args)-2] // CLI calls: text logs, JSON output parsed
	srv.createUser(testEmail, testPassword)
	r := newRP(t, srv, srv.createClient("--name", "App", "--redirect-uri", redirectURI))
	f := r.start()
	code := r.login(newBrowser(t, redirectURI), f, testEmail, testPassword)
	// Requests the library itself logs about.
	if _, err := r.in(t).exchange(flow{verifier: f.verifier}, "not-a-code"); err == nil {
		t.Fatal("a made-up code was accepted")
	}
	http.Get(srv.issuer + "/authorize?client_id=nope&redirect_uri=http://evil.example/")
	r.mustExchange(f, code)
	srv.stop()

	var library bool
	for _, line := range strings.Split(strings.TrimSpace(srv.logs.String()), "\n") {
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
		t.Errorf("the library's own log lines are not in the server's log:\n%s", srv.logs.String())
	}
}

// firstEngine is SQLite: header and log format do not depend on the engine.
func firstEngine(t *testing.T) (string, func(*testing.T, string) string) {
	return "sqlite", engines(t)["sqlite"]
}
