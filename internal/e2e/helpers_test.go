package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/storage"
)

// The one user and the relying party's URIs most tests use.
const (
	testEmail    = "alice@example.com"
	testPassword = "correct horse battery staple"
	redirectURI  = e2e.RedirectURI
	logoutURI    = e2e.LogoutURI
)

// setup starts a server with one user (Alice) and one confidential client.
func setup(t *testing.T, eng e2e.Engine) (*e2e.Server, *e2e.RP, string) {
	t.Helper()
	srv := e2e.Start(t, e2e.Options{Engine: eng})
	userID := srv.CreateUser(testEmail, testPassword, "--name", "Alice")
	c := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI, "--post-logout-redirect-uri", logoutURI)
	return srv, e2e.NewRP(t, srv, c), userID
}

// mfaSetup is setup on a server that mails through a real (in-process)
// SMTP server, started with the extra flags.
func mfaSetup(t *testing.T, eng e2e.Engine, extra ...string) (*e2e.Server, *e2e.RP, *e2e.Mailbox) {
	t.Helper()
	mail := e2e.NewMailbox(t)
	srv := e2e.Start(t, e2e.Options{Engine: eng, Mail: mail, Args: extra})
	srv.CreateUser(testEmail, testPassword, "--name", "Alice")
	c := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI, "--post-logout-redirect-uri", logoutURI)
	return srv, e2e.NewRP(t, srv, c), mail
}

// passwordStep opens the authorization URL and submits Alice's password;
// the browser then stands on whatever page comes next.
func passwordStep(t *testing.T, b *e2e.Browser, f e2e.Flow) *e2e.Page {
	t.Helper()
	return loginAs(t, b, f, testEmail, testPassword)
}

// loginAs runs the password step for any user.
func loginAs(t *testing.T, b *e2e.Browser, f e2e.Flow, email, password string) *e2e.Page {
	t.Helper()
	return b.Get(f.AuthURL).Form(e2e.WithAction("/login/password")).Set("email", email).Set("password", password).Submit()
}

func isPasswordPage(p *e2e.Page) bool { return p.HasForm(e2e.WithAction("/login/password")) }

// formFields are what the page's first form sends as it stands: the CSRF
// token and the authorization request, for posting to another route.
func formFields(p *e2e.Page) url.Values { return p.Form().Values() }

// amrOf is a JSON array of strings (amr, a discovery list) as a slice.
func amrOf(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// jwtClaims decodes a JWT's header and claims without verifying it.
func jwtClaims(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, dst)
	}
	return header, claims
}

// countReasons counts the audit rows of a type by result/reason.
func countReasons(evs []storage.AuditEvent, typ string) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		if e.Type == typ {
			m[e.Result+"/"+e.Reason]++
		}
	}
	return m
}
