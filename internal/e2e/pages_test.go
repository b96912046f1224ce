package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
)

// TestFormsGoOnlyToThisSiteAndTheClient: the pages' CSP lets forms submit
// to StepGate and to the origin of this request's redirect URI only, and a
// form POST a browser marks as cross-site is refused even with the
// victim's cookie and CSRF token.
func TestFormsGoOnlyToThisSiteAndTheClient(t *testing.T) {
	srv := e2e.Start(t, e2e.Options{})
	srv.CreateUser(testEmail, testPassword)
	r := e2e.NewRP(t, srv, srv.CreateClient("--name", "App", "--redirect-uri", redirectURI))

	b := e2e.NewBrowser(t, redirectURI)
	f := r.Start()
	p := b.Get(f.AuthURL)
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9;") || strings.Contains(csp, "*") {
		t.Errorf("password page CSP %q", csp)
	}
	if e := b.Get(srv.URL + "/login?authRequestID=nope"); !strings.Contains(e.Header.Get("Content-Security-Policy"), "form-action 'self';") {
		t.Errorf("error page CSP %q", e.Header.Get("Content-Security-Policy"))
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
		req := e2e.NewFormRequest(t, srv.URL+"/login/password", form)
		req.Header.Set(hdr[0], hdr[1])
		if p := b.Do(req); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "not sent by this site") {
			t.Errorf("%s: answered %d", name, p.Status)
		}
	}
	// The same form from this site goes through.
	req := e2e.NewFormRequest(t, srv.URL+"/login/password", form)
	req.Header.Set("Origin", strings.TrimSuffix(srv.URL, "/"))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if q := r.Callback(f, b.Do(req)); q.Get("code") == "" {
		t.Fatalf("same-origin POST: %v", q)
	}
}
