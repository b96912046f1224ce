package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// consoleStepUp finishes what a destructive console form started without
// a fresh second factor: StepGate asks again for the password when it is
// older than the console's window, then for a second factor ("Verify it's
// you", an email code here), and the console's resume page offers the
// action, which Continue sends. It returns the page after Continue.
func consoleStepUp(t *testing.T, srv *e2e.Server, p *e2e.Page, email, password string) *e2e.Page {
	t.Helper()
	if p.HasForm(e2e.WithAction("/login/password")) {
		p = p.Form(e2e.WithAction("/login/password")).Set("email", email).Set("password", password).Submit()
	}
	if !strings.Contains(p.Body, "Verify it's you") {
		t.Fatalf("no second factor asked: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if p.HasForm(e2e.WithButton("Send code")) {
		p = p.Form(e2e.WithButton("Send code")).Submit()
	}
	p = p.Form(e2e.WithAction("/login/email")).Set("code", srv.Mail.Code(email)).Submit()
	if p.URL.Path != "/console/resume" || !strings.Contains(p.Body, "Continue where you were") {
		t.Fatalf("not back on the resume page: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	return p.Form(e2e.WithButton("Continue")).Submit()
}

// consoleEmails are the emails a users list page shows, in order.
func consoleEmails(p *e2e.Page) []string {
	var out []string
	for _, tr := range p.All("tr") {
		if tds := tr.All("td"); len(tds) > 0 {
			out = append(out, tds[0].Text())
		}
	}
	return out
}

// noticeOf is the notice a console page shows after a form.
func noticeOf(p *e2e.Page) string {
	for _, el := range p.All("p") {
		if strings.Contains(" "+el.Attr("class")+" ", " notice ") {
			return el.Text()
		}
	}
	return ""
}

func textOf(t *testing.T, p *e2e.Page, id string) string {
	t.Helper()
	el, ok := p.ByID(id)
	if !ok {
		t.Fatalf("no #%s on %s:\n%s", id, p.URL, p.Body)
	}
	return el.Text()
}

// consoleActions are the audit rows of type typ about userID, newest first.
func consoleActions(srv *e2e.Server, typ, userID string) []storage.AuditEvent {
	return srv.Audit(storage.AuditFilter{Type: typ, UserID: userID})
}

func TestConsoleUsers(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			mail := e2e.NewMailbox(t)
			srv := e2e.Start(t, e2e.Options{Engine: eng, Mail: mail, Args: []string{"--password-ip-limit", "0"}})
			ctx := context.Background()
			st := srv.Store()
			ownerEmail, ownerPassword := srv.DevOwner()
			owner, err := st.GetUserByEmail(ctx, ownerEmail)
			if err != nil {
				t.Fatal(err)
			}
			actor := "user:" + owner.ID
			aliceID := srv.CreateUser(testEmail, testPassword, "--name", "Alice")
			c := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI, "--post-logout-redirect-uri", logoutURI)
			srv.CLI("client", "set-factors", c.ClientID, "--otp=on")
			r := e2e.NewRP(t, srv, c)
			alicePage := "/users/" + aliceID

			// The owner's console, signed in with the password only.
			ob := e2e.NewBrowser(t, "")
			if p := srv.OpenConsole(ob, "/users", ownerEmail, ownerPassword); !e2e.InConsole(p) {
				t.Fatalf("console: %d %s\n%s", p.Status, p.URL, p.Body)
			}
			open := func(t *testing.T, path string) *e2e.Page {
				t.Helper()
				p := ob.Get(srv.URL + e2e.ConsolePath + path)
				if !e2e.InConsole(p) {
					t.Fatalf("%s: %d %s\n%s", path, p.Status, p.URL, p.Body)
				}
				return p
			}

			t.Run("the list pages with the service's cursor, keeping search and filters", func(t *testing.T) {
				var members []string
				for _, name := range []string{"mia", "noah", "olivia", "peter", "quinn"} {
					srv.CreateUser(name+"@example.org", "a long password 123", "--name", strings.ToUpper(name[:1])+name[1:]+" Member")
					members = append(members, name+"@example.org")
				}
				srv.CreateUser("ruth@example.org", "a long password 123", "--name", "Ruth Admin", "--role", "admin")
				srv.CLI("user", "set-mfa-bypass", "quinn@example.org", "--on")
				srv.CLI("user", "disable", "peter@example.org")

				// Every user, two at a time, by email.
				var seen []string
				p := open(t, "/users?limit=2")
				if !strings.Contains(p.Text(), "8 users match.") {
					t.Errorf("count: %s", textOf(t, p, "user-count"))
				}
				for pages := 1; ; pages++ {
					got := consoleEmails(p)
					if len(got) > 2 || pages > 5 {
						t.Fatalf("page %d: %v", pages, got)
					}
					seen = append(seen, got...)
					next, ok := p.Link("Next page")
					if !ok {
						break
					}
					if next.Query().Get("limit") != "2" || next.Query().Get("cursor") == "" {
						t.Fatalf("next page link %s", next)
					}
					p = ob.Get(next.String())
				}
				page, err := st.QueryUsers(ctx, storage.UserQuery{Limit: storage.MaxPageSize})
				if err != nil {
					t.Fatal(err)
				}
				var all []string
				for _, u := range page.Users {
					all = append(all, u.Email)
				}
				if !slices.Equal(seen, all) || len(all) != 8 {
					t.Errorf("walked %v, the store has %v", seen, all)
				}

				// A filter and a search stay on every page.
				p = open(t, "/users?role=member&search=MEMBER&limit=2")
				seen = nil
				for {
					seen = append(seen, consoleEmails(p)...)
					next, ok := p.Link("Next page")
					if !ok {
						break
					}
					if q := next.Query(); q.Get("role") != "member" || q.Get("search") != "MEMBER" {
						t.Fatalf("next page link lost the filters: %s", next)
					}
					p = ob.Get(next.String())
				}
				if !slices.Equal(seen, members) {
					t.Errorf("members matching MEMBER: %v, want %v", seen, members)
				}
				if got := consoleEmails(open(t, "/users?search=ruth+ADMIN")); !slices.Equal(got, []string{"ruth@example.org"}) {
					t.Errorf("search by name: %v", got)
				}
				if got := consoleEmails(open(t, "/users?search=LIVIA@EXAMPLE")); !slices.Equal(got, []string{"olivia@example.org"}) {
					t.Errorf("search by email: %v", got)
				}
				// The dashboard's links.
				for _, c := range []struct {
					query string
					want  []string
				}{
					{"bypass=1", []string{"quinn@example.org"}},
					{"disabled=1", []string{"peter@example.org"}},
					{"otp=bound", nil},
					{"locked=1", nil},
					{"role=admin&disabled=0", []string{"ruth@example.org"}},
				} {
					p := open(t, "/users?"+c.query)
					if got := consoleEmails(p); !slices.Equal(got, c.want) {
						t.Errorf("?%s: %v, want %v", c.query, got, c.want)
					}
				}
				dashboard := open(t, "")
				for _, link := range []string{"/console/users?otp=bound", "/console/users?locked=1",
					"/console/users?bypass=1", "/console/users?disabled=1"} {
					if !strings.Contains(dashboard.Body, `href="`+link+`"`) {
						t.Errorf("the dashboard does not link %s", link)
					}
				}
			})

			t.Run("filters the list cannot use are named on a 400 page, never a 500", func(t *testing.T) {
				for _, c := range []struct{ query, want string }{
					{"otp=maybe", "Authenticator must be bound or unbound."},
					{"locked=perhaps&bypass=2", "Locked must be 1 (locked) or 0 (not locked)."},
					{"disabled=%00", "Status must be 1 (disabled) or 0 (active)."},
					{"role=king", "Role must be owner, admin or member."},
					{"limit=ten", "Page size must be a whole number from 1 to 500."},
					{"limit=9999", "Page size must be between 1 and 500"},
					{"cursor=not-a-cursor", "Page is not a cursor this list handed out."},
					{"search=" + strings.Repeat("x", 400), "Search is longer than 320 characters."},
				} {
					p := ob.Get(srv.URL + "/console/users?" + c.query)
					if p.Status != http.StatusBadRequest || !strings.Contains(p.Text(), c.want) ||
						len(consoleEmails(p)) != 0 || strings.Contains(p.Body, "sql") {
						t.Errorf("?%.40s: %d, want 400 with %q:\n%s", c.query, p.Status, c.want, p.Text())
					}
				}
			})

			var secret []byte
			t.Run("the user's page shows when the authenticator was bound and last used, after real logins", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				var p *e2e.Page
				secret, p = bindTOTP(t, srv, b, testEmail, passwordStep(t, b, f))
				r.Callback(f, p.Form(e2e.WithButton("I have saved them — continue")).Submit())
				srv.Advance(2 * time.Minute)
				srv.AwayFromStepEdge()
				b = e2e.NewBrowser(t, redirectURI)
				f = r.Start()
				p = passwordStep(t, b, f)
				r.Callback(f, b.Submit(p, map[string]string{"code": srv.TOTPCode(secret)}))

				factors, err := st.ListFactors(ctx, aliceID)
				if err != nil || len(factors) != 1 {
					t.Fatalf("factors %v, %v", factors, err)
				}
				when := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
				if when(factors[0].ConfirmedAt) == when(factors[0].LastUsedAt) {
					t.Fatalf("bound %s and used %s in the same minute: the test cannot tell them apart",
						factors[0].ConfirmedAt, factors[0].LastUsedAt)
				}
				p = open(t, alicePage)
				want := "Bound since " + when(factors[0].ConfirmedAt) + "; last used " + when(factors[0].LastUsedAt)
				if got := textOf(t, p, "factor-otp"); !strings.Contains(got, want) || !strings.Contains(got, "Reset") {
					t.Errorf("OTP row %q, want %q and a Reset button", got, want)
				}
				if got := textOf(t, p, "factor-email"); !strings.Contains(got, testEmail) {
					t.Errorf("email row %q", got)
				}
				if got := textOf(t, p, "factor-backup"); !strings.Contains(got, "10 left") {
					t.Errorf("backup codes row %q", got)
				}
				if got := consoleEmails(open(t, "/users?otp=bound")); !slices.Equal(got, []string{testEmail}) {
					t.Errorf("?otp=bound: %v", got)
				}
			})

			t.Run("six wrong codes lock the user; Unlock lifts the lock", func(t *testing.T) {
				if secret == nil {
					t.Skip("no binding")
				}
				srv.Advance(time.Minute)
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := passwordStep(t, b, f)
				bad := mfa.TOTPCode(secret, srv.Clock.Now().Add(-10*time.Minute))
				for i := 0; i < 6; i++ {
					p = b.Submit(p, map[string]string{"code": bad})
				}
				if !strings.Contains(p.Body, "locked until ") {
					t.Fatalf("not locked after six wrong codes:\n%s", p.Body)
				}
				u, _ := st.GetUser(ctx, aliceID)
				if got := consoleEmails(open(t, "/users?locked=1")); !slices.Equal(got, []string{testEmail}) {
					t.Errorf("?locked=1: %v", got)
				}
				p = open(t, alicePage)
				if got := textOf(t, p, "locks"); !strings.Contains(got, "Second factor Locked until "+
					u.MFALockedUntil.UTC().Format("2006-01-02 15:04 UTC")) || !strings.Contains(got, "6 failed attempt(s)") {
					t.Errorf("locks %q", got)
				}
				p = p.Form(e2e.WithButton("Unlock")).Submit()
				if got := noticeOf(p); p.From != http.StatusSeeOther || !strings.Contains(got, testEmail+" is unlocked") {
					t.Fatalf("unlock: %d after %d, notice %q", p.Status, p.From, got)
				}
				if u, _ := st.GetUser(ctx, aliceID); !u.MFALockedUntil.IsZero() || u.MFAFailures != 0 {
					t.Errorf("still locked: %v, %d failures", u.MFALockedUntil, u.MFAFailures)
				}
				if evs := consoleActions(srv, mfa.EventAccountUnlocked, aliceID); len(evs) != 1 || evs[0].Actor != actor {
					t.Errorf("unlock audit rows %+v", evs)
				}
				if p.HasForm(e2e.WithButton("Unlock")) {
					t.Error("an unlocked user with no failures is still offered Unlock")
				}
				// The user logs in again with a code.
				srv.Advance(30 * time.Second)
				srv.AwayFromStepEdge()
				p = b.Get(f.AuthURL)
				r.Callback(f, b.Submit(p, map[string]string{"code": srv.TOTPCode(secret)}))
			})

			t.Run("sign out one session, then everywhere: the user's SSO sessions end", func(t *testing.T) {
				if secret == nil {
					t.Skip("no binding")
				}
				login := func() *e2e.Browser {
					srv.Advance(30 * time.Second)
					srv.AwayFromStepEdge()
					b := e2e.NewBrowser(t, redirectURI)
					f := r.Start()
					r.Callback(f, b.Submit(passwordStep(t, b, f), map[string]string{"code": srv.TOTPCode(secret)}))
					return b
				}
				signedIn := func(b *e2e.Browser) bool {
					f := r.Start()
					p := b.Get(f.AuthURL)
					return p.Status == http.StatusFound || p.Status == http.StatusSeeOther
				}
				first, second := login(), login()
				live, err := st.ListSessions(ctx, aliceID, srv.Clock.Now())
				if err != nil || len(live) < 2 {
					t.Fatalf("%d live sessions, %v", len(live), err)
				}
				p := open(t, alicePage)
				sessions, _ := p.ByID("sessions")
				if rows := sessions.All("tr"); len(rows) != len(live)+1 || !strings.Contains(sessions.Text(), "Test App") {
					t.Fatalf("sessions table: %s", sessions.Text())
				}
				// The newest session is listed first; sign out of it alone.
				var one *e2e.Form
				for _, f := range p.Forms() {
					if f.Action.Path == "/console"+alicePage+"/sessions/end" && f.Get("session_id") == live[0].ID {
						one = f
					}
				}
				if one == nil {
					t.Fatalf("no sign-out form for session %s", live[0].ID)
				}
				p = one.Submit()
				if got := noticeOf(p); !strings.Contains(got, "The session of "+testEmail+" ended") {
					t.Errorf("one session: %q", got)
				}
				if signedIn(second) || !signedIn(first) {
					t.Errorf("after ending the newest session: second signed in %v, first %v", signedIn(second), signedIn(first))
				}
				p = p.Form(e2e.WithButton("Sign out everywhere")).Submit()
				if got := noticeOf(p); !strings.Contains(got, "is signed out everywhere") {
					t.Errorf("everywhere: %q", got)
				}
				if live, _ := st.ListSessions(ctx, aliceID, srv.Clock.Now()); len(live) != 0 || signedIn(first) {
					t.Errorf("%d sessions live after signing out everywhere", len(live))
				}
				if !strings.Contains(p.Text(), "No active session.") {
					t.Error("the page still lists sessions")
				}
				evs := consoleActions(srv, mfa.EventUserSessionsEnded, aliceID)
				if len(evs) != 2 || evs[0].Actor != actor || evs[1].Actor != actor ||
					evs[1].Detail != "session "+live[0].ID+" ended" {
					t.Errorf("end sessions audit rows %+v", evs)
				}
			})

			t.Run("Reset steps up from a password-only console sign-in, then the user binds again", func(t *testing.T) {
				if secret == nil {
					t.Skip("no binding")
				}
				p := open(t, alicePage)
				p = p.Form(e2e.WithAction("/console" + alicePage + "/reset-otp")).Submit()
				if p.URL.Path != "/console"+alicePage || !strings.Contains(p.Body, "<dialog open") ||
					!strings.Contains(p.Text(), "Reset the authenticator of "+testEmail+"?") {
					t.Fatalf("no confirmation: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				if f, _ := st.ListFactors(ctx, aliceID); len(f) != 1 {
					t.Fatal("the confirmation step changed something")
				}
				p = p.Form(e2e.WithButton("Reset the authenticator")).Submit()
				if f, _ := st.ListFactors(ctx, aliceID); len(f) != 1 {
					t.Fatal("reset without a fresh second factor")
				}
				p = consoleStepUp(t, srv, p, ownerEmail, ownerPassword)
				if got := noticeOf(p); p.URL.Path != "/console"+alicePage ||
					!strings.Contains(got, "The authenticator of "+testEmail+" was reset: authenticator removed, 10 backup code(s) removed") {
					t.Fatalf("after Continue: %s, notice %q\n%s", p.URL, got, p.Body)
				}
				if f, _ := st.ListFactors(ctx, aliceID); len(f) != 0 {
					t.Errorf("binding left: %+v", f)
				}
				if n, _ := st.CountUnusedBackupCodes(ctx, aliceID); n != 0 {
					t.Errorf("%d backup codes left", n)
				}
				if got := textOf(t, p, "factor-otp"); !strings.Contains(got, "Not bound") {
					t.Errorf("OTP row after reset: %q", got)
				}
				if evs := consoleActions(srv, mfa.EventUserOTPReset, aliceID); len(evs) != 1 || evs[0].Actor != actor {
					t.Errorf("reset audit rows %+v", evs)
				}
				// Her next login to the OTP application binds anew.
				b := e2e.NewBrowser(t, redirectURI)
				if p := passwordStep(t, b, r.Start()); !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Errorf("the next login does not bind again: %d %s", p.Status, p.URL)
				}
			})

			t.Run("with a fresh second factor Reset applies at once; 16 minutes later it steps up again", func(t *testing.T) {
				srv.CLI("user", "backup-codes", "regenerate", testEmail)
				// Backup codes without an authenticator: Reset removes them.
				p := open(t, alicePage)
				p = p.Form(e2e.WithAction("/console" + alicePage + "/reset-otp")).Submit()
				p = p.Form(e2e.WithButton("Reset the authenticator")).Submit()
				if got := noticeOf(p); p.URL.Path != "/console"+alicePage || !strings.Contains(got, "10 backup code(s) removed") {
					t.Fatalf("fresh reset: %d %s, notice %q", p.Status, p.URL, got)
				}
				if n, _ := st.CountUnusedBackupCodes(ctx, aliceID); n != 0 {
					t.Errorf("%d backup codes left", n)
				}

				srv.CLI("user", "backup-codes", "regenerate", testEmail)
				srv.Advance(16 * time.Minute)
				p = open(t, alicePage)
				p = ob.Post(srv.URL+"/console"+alicePage+"/reset-otp", url.Values{"csrf_token": {csrfOf(t, p)}, "confirm": {"yes"}})
				if e2e.InConsole(p) {
					t.Fatalf("a second factor 16 minutes old was enough: %s %q", p.URL, noticeOf(p))
				}
				if n, _ := st.CountUnusedBackupCodes(ctx, aliceID); n != 10 {
					t.Fatalf("reset before the step-up: %d codes left", n)
				}
				p = consoleStepUp(t, srv, p, ownerEmail, ownerPassword)
				if got := noticeOf(p); !strings.Contains(got, "10 backup code(s) removed") {
					t.Errorf("after the step-up: %q", got)
				}
			})

			t.Run("Disable user MFA lets the user skip the factor; Enable user MFA asks again", func(t *testing.T) {
				p := open(t, alicePage)
				p = p.Form(e2e.WithButton("Disable user MFA")).Submit()
				if !strings.Contains(p.Body, "<dialog open") {
					t.Fatalf("no confirmation:\n%s", p.Body)
				}
				p = p.Form(e2e.WithButton("Disable MFA for this user")).Submit()
				if got := noticeOf(p); !strings.Contains(got, "MFA is disabled for "+testEmail) {
					t.Fatalf("bypass on: %d %s, notice %q", p.Status, p.URL, got)
				}
				if u, _ := st.GetUser(ctx, aliceID); !u.MFABypass {
					t.Fatal("bypass not set")
				}
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				if q := r.Callback(f, passwordStep(t, b, f)); q.Get("code") == "" {
					t.Errorf("with the bypass, the login did not finish at the password: %v", q)
				}
				p = p.Form(e2e.WithButton("Enable user MFA")).Submit()
				if got := noticeOf(p); !strings.Contains(got, "MFA is enabled again for "+testEmail+"; 1 session(s) ended") {
					t.Errorf("bypass off: notice %q", got)
				}
				f = r.Start()
				if p := b.Get(f.AuthURL); !isPasswordPage(p) {
					t.Errorf("the session opened with the bypass lived on: %d %s", p.Status, p.URL)
				}
				if p := passwordStep(t, b, f); !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Errorf("without the bypass the login does not ask for the factor: %d %s", p.Status, p.URL)
				}
				evs := consoleActions(srv, mfa.EventBypassChanged, aliceID)
				if len(evs) != 2 || evs[0].Actor != actor || evs[0].Detail != "bypass=off; 1 session(s) ended" ||
					evs[1].Actor != actor || evs[1].Detail != "bypass=on" {
					t.Errorf("bypass audit rows %+v", evs)
				}
			})

			t.Run("a disabled user cannot sign in; the owner cannot be disabled", func(t *testing.T) {
				p := open(t, alicePage)
				p = p.Form(e2e.WithButton("Disable account")).Submit()
				p = p.Form(e2e.WithButton("Disable the account")).Submit()
				if got := noticeOf(p); !strings.Contains(got, testEmail+" is disabled and cannot sign in") ||
					!strings.Contains(textOf(t, p, "account-status"), "Disabled") {
					t.Fatalf("disable: notice %q", got)
				}
				b := e2e.NewBrowser(t, redirectURI)
				if p := passwordStep(t, b, r.Start()); !isPasswordPage(p) || p.Status == http.StatusFound {
					t.Errorf("a disabled user got past the password: %d %s", p.Status, p.URL)
				}
				if evs := consoleActions(srv, mfa.EventUserDisabled, aliceID); len(evs) != 1 || evs[0].Actor != actor {
					t.Errorf("disable audit rows %+v", evs)
				}
				if got := consoleEmails(open(t, "/users?disabled=1")); !slices.Contains(got, testEmail) {
					t.Errorf("?disabled=1: %v", got)
				}
				p = p.Form(e2e.WithButton("Enable account")).Submit()
				if got := noticeOf(p); !strings.Contains(got, testEmail+" can sign in again") {
					t.Errorf("enable: %q", got)
				}
				if p := passwordStep(t, b, r.Start()); !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Errorf("the enabled user cannot sign in: %d %s", p.Status, p.URL)
				}

				ownerPage := "/users/" + owner.ID
				p = open(t, ownerPage)
				p = p.Form(e2e.WithButton("Disable account")).Submit()
				p = p.Form(e2e.WithButton("Disable the account")).Submit()
				if got := noticeOf(p); p.URL.Path != "/console"+ownerPage ||
					!strings.Contains(got, ownerEmail+" is the owner, who cannot be disabled") {
					t.Errorf("disabling the owner: %s, notice %q", p.URL, got)
				}
				if u, _ := st.GetUser(ctx, owner.ID); u.Disabled {
					t.Error("the owner was disabled")
				}
			})

			t.Run("a form without the session's CSRF token is refused with 403 and changes nothing", func(t *testing.T) {
				p := open(t, alicePage)
				for _, action := range []string{"disable", "bypass", "reset-otp", "sessions/end", "unlock"} {
					form := url.Values{"confirm": {"yes"}, "mfa_bypass": {"on"}}
					if p := ob.Post(srv.URL+"/console"+alicePage+"/"+action, form); p.Status != http.StatusForbidden {
						t.Errorf("%s without a token: %d", action, p.Status)
					}
					form.Set("csrf_token", csrfOf(t, p)+"x")
					if p := ob.Post(srv.URL+"/console"+alicePage+"/"+action, form); p.Status != http.StatusForbidden {
						t.Errorf("%s with a wrong token: %d", action, p.Status)
					}
				}
				if u, _ := st.GetUser(ctx, aliceID); u.Disabled || u.MFABypass {
					t.Errorf("a refused form changed the user: disabled %v, bypass %v", u.Disabled, u.MFABypass)
				}
			})

			t.Run("an unknown user is a 404 page", func(t *testing.T) {
				for _, path := range []string{"/users/no-such-user", "/users/nobody@example.com", "/users/" + strings.Repeat("a", 400)} {
					p := ob.Get(srv.URL + "/console" + path)
					if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "No such user") {
						t.Errorf("%.40s: %d", path, p.Status)
					}
				}
			})
		})
	}
}

// csrfOf is the CSRF token of the page's sign-out form (every console
// page has one).
func csrfOf(t *testing.T, p *e2e.Page) string {
	t.Helper()
	return p.Form(e2e.WithAction("/console/sign-out")).Get("csrf_token")
}
