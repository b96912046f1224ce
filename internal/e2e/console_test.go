package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/storage"
)

func TestConsoleSignInIsAStepGateLogin(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			mail := e2e.NewMailbox(t)
			srv := e2e.Start(t, e2e.Options{Engine: eng, Mail: mail})
			ownerEmail, ownerPassword := srv.DevOwner()
			srv.CreateUser("admin@example.com", "admin password 123", "--role", "admin")
			srv.CreateUser("member@example.com", "member password 123")

			t.Run("the owner signs in with a password and lands on the page asked for", func(t *testing.T) {
				b := e2e.NewBrowser(t, "")
				p := b.Get(srv.URL + "/console?x=1")
				if !p.HasForm(e2e.WithAction("/login/password")) {
					t.Fatalf("no StepGate login page: %d %s", p.Status, p.URL)
				}
				if !strings.Contains(p.Body, "StepGate console") {
					t.Errorf("the login page does not name the console")
				}
				p = p.Form(e2e.WithAction("/login/password")).Set("email", ownerEmail).Set("password", ownerPassword).Submit()
				if !e2e.InConsole(p) || p.URL.Path != "/console" || p.URL.RawQuery != "x=1" {
					t.Fatalf("after the password: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				evs := srv.Audit(storage.AuditFilter{Type: "auth.password.verify"})
				if len(evs) == 0 || evs[0].ClientID != admin.ConsoleClient || evs[0].Result != storage.ResultSuccess {
					t.Errorf("the sign-in's audit row: %+v", evs)
				}
				for _, want := range []string{"Content-Security-Policy", "Cache-Control"} {
					if p.Header.Get(want) == "" {
						t.Errorf("console page without %s", want)
					}
				}
				if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
					strings.Contains(csp, "script-src") && !strings.Contains(csp, "script-src 'self'") {
					t.Errorf("CSP %q", csp)
				}

				// Sign out ends the console session and the SSO session.
				p = p.Form(e2e.WithAction("/console/sign-out")).Submit()
				if p.Status != http.StatusOK || !strings.Contains(p.Body, "You signed out of the StepGate console") {
					t.Fatalf("sign out: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				p = b.Get(srv.URL + "/console")
				if !p.HasForm(e2e.WithAction("/login/password")) {
					t.Errorf("after signing out the console opened without a password: %d %s", p.Status, p.URL)
				}
			})

			t.Run("an admin gets in, a member gets a 403 page and no session", func(t *testing.T) {
				b := e2e.NewBrowser(t, "")
				if p := srv.OpenConsole(b, "", "admin@example.com", "admin password 123"); !e2e.InConsole(p) {
					t.Fatalf("admin: %d %s", p.Status, p.URL)
				}
				m := e2e.NewBrowser(t, "")
				p := srv.OpenConsole(m, "", "member@example.com", "member password 123")
				if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "for workspace owners and administrators") {
					t.Fatalf("member: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				// Reloading does not get the member in either (SSO, then 403 again).
				if p := m.Get(srv.URL + "/console"); p.Status != http.StatusForbidden {
					t.Errorf("member again: %d %s", p.Status, p.URL)
				}
			})

			t.Run("with mandatory MFA targeting the console, signing in needs a second factor", func(t *testing.T) {
				srv.CLI("workspace", "set", "--mfa-required=on", "--targets=console", "--factors=email")
				defer srv.CLI("workspace", "set", "--mfa-required=off")
				b := e2e.NewBrowser(t, "")
				p := srv.OpenConsole(b, "", "admin@example.com", "admin password 123")
				if e2e.InConsole(p) || !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("no second factor asked: %d %s", p.Status, p.URL)
				}
				if p.HasForm(e2e.WithButton("Send code")) {
					p = p.Form(e2e.WithButton("Send code")).Submit()
				}
				p = p.Form(e2e.WithAction("/login/email")).Set("code", mail.Code("admin@example.com")).Submit()
				if !e2e.InConsole(p) {
					t.Fatalf("after the email code: %d %s\n%s", p.Status, p.URL, p.Body)
				}
			})

			t.Run("targeting only client applications leaves the console at the password", func(t *testing.T) {
				srv.CLI("workspace", "set", "--mfa-required=on", "--targets=applications", "--factors=email")
				defer srv.CLI("workspace", "set", "--mfa-required=off")
				b := e2e.NewBrowser(t, "")
				if p := srv.OpenConsole(b, "", "admin@example.com", "admin password 123"); !e2e.InConsole(p) {
					t.Fatalf("console asked for more than the password: %d %s", p.Status, p.URL)
				}
			})

			t.Run("a form without the session's CSRF token is refused", func(t *testing.T) {
				b := e2e.NewBrowser(t, "")
				p := srv.OpenConsole(b, "", "admin@example.com", "admin password 123")
				form := p.Form(e2e.WithAction("/console/sign-out")).Values()
				form.Set("csrf_token", "forged")
				if p := b.Post(srv.URL+"/console/sign-out", form); p.Status != http.StatusForbidden {
					t.Errorf("forged token: %d", p.Status)
				}
				if p := b.Get(srv.URL + "/console"); !e2e.InConsole(p) {
					t.Errorf("the refused sign-out ended the session: %d %s", p.Status, p.URL)
				}
			})
		})
	}
}
