package cli

import (
	"net/http"
	"strings"
	"testing"
)

// TestFormsGoOnlyToThisSiteAndTheClient: the pages' CSP lets forms submit
// to StepGate and to the origin of this request's redirect URI only, and a
// form POST a browser marks as cross-site is refused even with the
// victim's cookie and CSRF token.
func TestFormsGoOnlyToThisSiteAndTheClient(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, "sqlite://"+dir+"/stepgate.db", dir)
	srv.createUser(testEmail, testPassword)
	r := newRP(t, srv, srv.createClient("--name", "App", "--redirect-uri", redirectURI))

	b := newBrowser(t, redirectURI)
	f := r.start()
	p := b.get(f.authURL)
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9;") || strings.Contains(csp, "*") {
		t.Errorf("password page CSP %q", csp)
	}
	if e := b.get(srv.issuer + "/login?authRequestID=nope"); !strings.Contains(e.header.Get("Content-Security-Policy"), "form-action 'self';") {
		t.Errorf("error page CSP %q", e.header.Get("Content-Security-Policy"))
	}

	form := formFields(p)
	form.Set("email", testEmail)
	form.Set("password", testPassword)
	for name, hdr := range map[string][2]string{
		"Origin of another site":        {"Origin", "https://evil.example"},
		"Sec-Fetch-Site: cross-site":    {"Sec-Fetch-Site", "cross-site"},
		"Sec-Fetch-Site: same-site":     {"Sec-Fetch-Site", "same-site"},
		"Origin with another port":      {"Origin", "http://127.0.0.1:1"},
		"Origin null (sandboxed frame)": {"Origin", "null"},
	} {
		req := newFormRequest(t, srv.issuer+"/login/password", form)
		req.Header.Set(hdr[0], hdr[1])
		if p := b.do(req); p.status != http.StatusForbidden || !strings.Contains(p.body, "not sent by this site") {
			t.Errorf("%s: answered %d", name, p.status)
		}
	}
	// The same form from this site goes through.
	req := newFormRequest(t, srv.issuer+"/login/password", form)
	req.Header.Set("Origin", strings.TrimSuffix(srv.issuer, "/"))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if q := r.callback(f, b.do(req)); q.Get("code") == "" {
		t.Fatalf("same-origin POST: %v", q)
	}
}
