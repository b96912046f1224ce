package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// consoleServer starts a server that mails through a real SMTP server,
// with the owner's sign-in and user ID.
func consoleServer(t *testing.T, eng e2e.Engine) (srv *e2e.Server, mail *e2e.Mailbox, email, password, ownerID string) {
	t.Helper()
	mail = e2e.NewMailbox(t)
	srv = e2e.Start(t, e2e.Options{Engine: eng, Mail: mail})
	email, password = srv.DevOwner()
	u, err := srv.Store().GetUserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return srv, mail, email, password, u.ID
}

// openConsole signs a new browser in to the console as email (a password
// only) and opens path there.
func openConsole(t *testing.T, srv *e2e.Server, path, email, password string) (*e2e.Browser, *e2e.Page) {
	t.Helper()
	b := e2e.NewBrowser(t, "")
	p := srv.OpenConsole(b, path, email, password)
	if !e2e.InConsole(p) {
		t.Fatalf("console %s: %d %s\n%s", path, p.Status, p.URL, p.Body)
	}
	return b, p
}

// stepUp completes the console's step-up from the page a destructive
// action led to: the password when StepGate asks for it again, then an
// email code, then the resume page's Continue. It fails the test unless
// the action asked for a second factor; it returns the page after
// Continue.
func stepUp(t *testing.T, srv *e2e.Server, p *e2e.Page, email, password string) *e2e.Page {
	t.Helper()
	if p.HasForm(e2e.WithAction("/login/password")) {
		p = p.Form(e2e.WithAction("/login/password")).Set("email", email).Set("password", password).Submit()
	}
	if !strings.Contains(p.Body, "Verify it's you") {
		t.Fatalf("no step-up: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	if !p.HasForm(e2e.WithAction("/login/email/send")) && !p.HasForm(e2e.WithAction("/login/email")) {
		t.Fatalf("the factor page offers no email code:\n%s", p.Body)
	}
	if p.HasForm(e2e.WithButton("Send code")) {
		p = p.Form(e2e.WithButton("Send code")).Submit()
	}
	p = p.Form(e2e.WithAction("/login/email")).Set("code", srv.Mail.Code(email)).Submit()
	if !e2e.InConsole(p) || p.URL.Path != "/console/resume" {
		t.Fatalf("after the email code: %d %s\n%s", p.Status, p.URL, p.Body)
	}
	return p.Form(e2e.WithButton("Continue")).Submit()
}

// dialog is the text of the page's open dialog, "" when none is open.
func dialog(p *e2e.Page) string {
	if !strings.Contains(p.Body, "<dialog open") {
		return ""
	}
	for _, d := range p.All("dialog") {
		return strings.Join(strings.Fields(d.Text()), " ")
	}
	return ""
}

// fieldError is the error shown beside field, "" when none.
func fieldError(p *e2e.Page, field string) string {
	if e, ok := p.ByID(field + "-error"); ok {
		return e.Text()
	}
	return ""
}

// notice is the page's notice.
func notice(p *e2e.Page) string {
	for _, e := range p.All("p") {
		if c := e.Attr("class"); c == "notice" || c == "notice error" {
			return e.Text()
		}
	}
	return ""
}

// appRow is the text of each cell of the list's row for the client ID,
// nil when the list has none.
func appRow(p *e2e.Page, clientID string) []string {
	for _, tr := range p.All("tr") {
		if !strings.Contains(tr.Text(), clientID) {
			continue
		}
		var cells []string
		for _, td := range tr.All("td") {
			cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
		}
		return cells
	}
	return nil
}

func TestConsoleApplicationsListCreateAndConfigure(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, _, email, password, ownerID := consoleServer(t, eng)
			srv.CreateUser(testEmail, testPassword, "--name", "Alice")
			app := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
			rp := e2e.NewRP(t, srv, app)
			ctx := t.Context()
			b, _ := openConsole(t, srv, "", email, password)

			t.Run("the list shows each application with its factors and how many users are signed in", func(t *testing.T) {
				srv.CLI("client", "set-factors", app.ClientID, "--email=on", "--mfa-max-age=8h")
				p := b.Get(srv.URL + "/console/applications")
				if row := appRow(p, app.ClientID); len(row) != 6 || row[0] != "Test App" || row[3] != "Email code" ||
					row[4] != "8h" || row[5] != "0" {
					t.Fatalf("row %q\n%s", row, p.Body)
				}
				srv.CLI("client", "set-factors", app.ClientID, "--email=off")
				for range 2 { // two sign-ins of one user count once
					f := rp.Start()
					rp.MustExchange(f, rp.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
				}
				p = b.Get(srv.URL + "/console/applications")
				if row := appRow(p, app.ClientID); len(row) != 6 || row[3] != "none" || row[5] != "1" {
					t.Errorf("row after a sign-in %q", row)
				}
				if strings.Contains(p.Body, "stepgate-console") {
					t.Errorf("the console's own client is listed as an application")
				}
			})

			t.Run("the list pages through the applications", func(t *testing.T) {
				// More than a page (50), straight into the store.
				now := srv.Clock.Now()
				for i := range 60 {
					if err := srv.Store().CreateClient(ctx, &storage.Client{ID: fmt.Sprintf("paged-%02d", i),
						Name: fmt.Sprintf("P%02d", i), RedirectURIs: []string{redirectURI}, TokenFormat: "jwt",
						MFAMaxAge: -1, CreatedAt: now, UpdatedAt: now}); err != nil {
						t.Fatal(err)
					}
				}
				seen, pages := map[string]bool{}, 0
				next := srv.URL + "/console/applications"
				for ; next != ""; pages++ {
					if pages > 5 {
						t.Fatal("the pages do not end")
					}
					p := b.Get(next)
					for _, tr := range p.All("tr") {
						if cells := tr.All("td"); len(cells) > 0 {
							if seen[cells[0].Text()] {
								t.Errorf("%s listed twice", cells[0].Text())
							}
							seen[cells[0].Text()] = true
						}
					}
					next = ""
					if u, ok := p.Link("Next page"); ok {
						next = u.String()
					}
				}
				// The dev start's demo app, Test App and the 60.
				if pages != 2 || len(seen) != 62 || !seen["Test App"] || !seen["P59"] {
					t.Errorf("%d pages listed %d applications: %v", pages, len(seen), seen)
				}
				// A damaged cursor leads to the first page, never a 500.
				p := b.Get(srv.URL + "/console/applications?cursor=%00garbage")
				if p.Status != http.StatusOK || !strings.Contains(notice(p), "does not exist") || appRow(p, app.ClientID) == nil {
					t.Errorf("damaged cursor: %d %q", p.Status, notice(p))
				}
			})

			var created string
			t.Run("a new application's secret is shown once, and works", func(t *testing.T) {
				p := b.Get(srv.URL + "/console/applications/new")
				p = p.Form(e2e.WithAction("/console/applications")).Set("name", "Console App").
					Set("redirect_uris", redirectURI+"\n\nhttps://app.example/cb\n").
					Set("post_logout_redirect_uris", logoutURI).Set("client_type", "confidential").
					Set("token_format", "opaque").Submit()
				secret, ok := p.ByID("client-secret")
				id, _ := p.ByID("client-id")
				if !ok || id.Text() == "" || !strings.Contains(notice(p), "shown only once") {
					t.Fatalf("no secret after creating: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				created = id.Text()
				c, err := srv.Store().GetClient(ctx, created)
				if err != nil || c.SecretHash != op.HashSecret(secret.Text()) || c.TokenFormat != "opaque" ||
					strings.Join(c.RedirectURIs, " ") != redirectURI+" https://app.example/cb" ||
					strings.Join(c.PostLogoutRedirectURIs, " ") != logoutURI || c.Public {
					t.Errorf("stored %+v, %v", c, err)
				}
				if again := b.Get(p.URL.String()); strings.Contains(again.Body, secret.Text()) || !e2e.InConsole(again) {
					t.Errorf("reloading shows the secret again")
				}
				if p.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("the page with the secret may be cached: %q", p.Header.Get("Cache-Control"))
				}
				evs := srv.Audit(storage.AuditFilter{Type: "admin.client.create"})
				if len(evs) == 0 || evs[0].ClientID != created || evs[0].Actor != "user:"+ownerID {
					t.Errorf("audit %+v", evs)
				}
				rp := e2e.NewRP(t, srv, e2e.Client{ClientID: created, ClientSecret: secret.Text()})
				f := rp.Start()
				rp.MustExchange(f, rp.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
			})

			t.Run("a public application has no secret", func(t *testing.T) {
				p := b.Get(srv.URL+"/console/applications/new").Form(e2e.WithAction("/console/applications")).
					Set("name", "SPA").Set("redirect_uris", redirectURI).Set("client_type", "public").Submit()
				if _, ok := p.ByID("client-secret"); ok || !strings.Contains(notice(p), "public") {
					t.Errorf("public application: %s\n%s", p.URL, p.Body)
				}
				if p.HasForm(e2e.WithButton("Rotate secret")) {
					t.Errorf("a public application offers to rotate a secret")
				}
			})

			t.Run("bad input comes back beside its field, with what was typed, and changes nothing", func(t *testing.T) {
				before, _ := srv.Store().GetClient(ctx, created)
				long := strings.Repeat("x", 300)
				p := b.Get(srv.URL + "/console/applications/" + created)
				p = p.Form(e2e.WithButton("Save")).Set("name", long).
					Set("redirect_uris", "http://evil.example/cb").
					Set("access_token_lifetime", "soon").Set("refresh_token_lifetime", "-5m").Submit()
				if p.Status != http.StatusOK || p.From != http.StatusSeeOther {
					t.Fatalf("refused form: %d (from %d)", p.Status, p.From)
				}
				if e := fieldError(p, "access_token_lifetime"); !strings.Contains(e, "duration") {
					t.Errorf("lifetime error %q", e)
				}
				// Fixed the lifetime, the service's errors show.
				p = p.Form(e2e.WithButton("Save")).Set("access_token_lifetime", "").Submit()
				if e := fieldError(p, "redirect_uris"); !strings.Contains(e, "must use https") {
					t.Errorf("redirect URI error %q\n%s", e, p.Body)
				}
				if e := fieldError(p, "name"); !strings.Contains(e, "longer than 200") {
					t.Errorf("name error %q", e)
				}
				if e := fieldError(p, "refresh_token_lifetime"); e == "" {
					t.Errorf("no error for a negative lifetime")
				}
				f := p.Form(e2e.WithButton("Save"))
				if f.Get("redirect_uris") != "http://evil.example/cb" || f.Get("name") != long {
					t.Errorf("what was typed is lost: %q", f.Get("redirect_uris"))
				}
				// Garbage a browser would not send: an unknown token format, a
				// switch with a value, a huge period.
				forged := f.Values()
				forged.Set("token_format", "paseto")
				forged.Set("redirect_uris", redirectURI)
				forged.Set("name", "Console App")
				p = b.Post(srv.URL+"/console/applications/"+created, forged)
				if e := fieldError(p, "token_format"); !strings.Contains(e, "jwt or opaque") {
					t.Errorf("token format error %q", e)
				}
				after, _ := srv.Store().GetClient(ctx, created)
				if after.Name != before.Name || strings.Join(after.RedirectURIs, " ") != strings.Join(before.RedirectURIs, " ") ||
					after.TokenFormat != before.TokenFormat || !after.UpdatedAt.Equal(before.UpdatedAt) {
					t.Errorf("a refused form changed the client: %+v", after)
				}
				mfa := b.Get(srv.URL + "/console/applications/" + created + "/mfa").Form(e2e.WithButton("Save")).Values()
				for field, v := range map[string]string{"otp": "yes", "period_value": "99999999999999999999", "period": "sometimes"} {
					bad := url.Values{}
					for k, vs := range mfa {
						bad[k] = vs
					}
					bad.Set("period", "after")
					bad.Set(field, v)
					p := b.Post(srv.URL+"/console/applications/"+created+"/mfa", bad)
					if p.Status != http.StatusOK || !strings.Contains(p.Body, `class="field-error"`) {
						t.Errorf("%s=%s: %d\n%s", field, v, p.Status, p.Body)
					}
				}
			})

			t.Run("a valid change is saved and audited with the administrator as actor", func(t *testing.T) {
				p := b.Get(srv.URL + "/console/applications/" + created)
				p = p.Form(e2e.WithButton("Save")).Set("name", "Renamed").Set("access_token_lifetime", "10m").
					Set("token_format", "jwt").Submit()
				if !strings.Contains(notice(p), "saved") {
					t.Fatalf("notice %q", notice(p))
				}
				c, _ := srv.Store().GetClient(ctx, created)
				if c.Name != "Renamed" || c.AccessTokenLifetime != 10*time.Minute || c.TokenFormat != "jwt" {
					t.Errorf("stored %+v", c)
				}
				evs := srv.Audit(storage.AuditFilter{Type: "admin.client.update"})
				if len(evs) == 0 || evs[0].Actor != "user:"+ownerID || evs[0].ClientID != created {
					t.Errorf("audit %+v", evs)
				}
				p = p.Form(e2e.WithButton("Save")).Submit()
				if !strings.Contains(notice(p), "Nothing to save") {
					t.Errorf("saving again: %q", notice(p))
				}
			})

			t.Run("a form without the session's CSRF token is refused and changes nothing", func(t *testing.T) {
				form := b.Get(srv.URL+"/console/applications/"+created).Form(e2e.WithButton("Save")).Set("name", "Forged").Values()
				form.Del("csrf_token")
				if p := b.Post(srv.URL+"/console/applications/"+created, form); p.Status != http.StatusForbidden {
					t.Errorf("without a token: %d", p.Status)
				}
				if c, _ := srv.Store().GetClient(ctx, created); c.Name == "Forged" {
					t.Errorf("the forged form was applied")
				}
			})

			t.Run("the console's own client and unknown IDs have no page", func(t *testing.T) {
				for _, id := range []string{"stepgate-console", "nope", strings.Repeat("z", 3000)} {
					if p := b.Get(srv.URL + "/console/applications/" + id); p.Status != http.StatusNotFound {
						t.Errorf("%.20s: %d", id, p.Status)
					}
				}
			})
		})
	}
}

// exchangeWith runs a login of Alice's to the client and redeems the code
// with secret: the token endpoint's answer to that secret.
func exchangeWith(t *testing.T, srv *e2e.Server, clientID, secret string) error {
	t.Helper()
	rp := e2e.NewRP(t, srv, e2e.Client{ClientID: clientID, ClientSecret: secret})
	f := rp.Start()
	_, err := rp.Exchange(f, rp.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
	return err
}

func TestConsoleRotatesASecretAfterAFreshSecondFactor(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, _, email, password, ownerID := consoleServer(t, eng)
			srv.CreateUser(testEmail, testPassword)
			app := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
			b, p := openConsole(t, srv, "/applications/"+app.ClientID, email, password)

			current := app.ClientSecret
			// rotate asks first, then (after a password-only sign-in) steps up
			// and resumes; the page shows the new secret once.
			rotate := func(p *e2e.Page, wantStepUp bool) (string, *e2e.Page) {
				t.Helper()
				p = p.Form(e2e.WithButton("Rotate secret")).Submit()
				if d := dialog(p); !strings.Contains(d, "Rotate the client secret?") {
					t.Fatalf("no confirmation dialog: %q\n%s", d, p.Body)
				}
				if c, _ := srv.Store().GetClient(t.Context(), app.ClientID); c.SecretHash != op.HashSecret(current) {
					t.Fatalf("the secret changed before the confirmation")
				}
				p = p.Form(e2e.WithButton("Confirm")).Submit()
				if wantStepUp {
					p = stepUp(t, srv, p, email, password)
				} else if !e2e.InConsole(p) {
					t.Fatalf("after Confirm: %d %s", p.Status, p.URL)
				}
				s, ok := p.ByID("client-secret")
				if !ok || p.URL.Path != "/console/applications/"+app.ClientID {
					t.Fatalf("no new secret: %d %s\n%s", p.Status, p.URL, p.Body)
				}
				current = s.Text()
				return s.Text(), p
			}

			secret, p := rotate(p, true)
			if err := exchangeWith(t, srv, app.ClientID, app.ClientSecret); err == nil || !strings.Contains(err.Error(), "invalid_client") {
				t.Errorf("the old secret at the token endpoint: %v", err)
			}
			if err := exchangeWith(t, srv, app.ClientID, secret); err != nil {
				t.Errorf("the new secret at the token endpoint: %v", err)
			}
			evs := srv.Audit(storage.AuditFilter{Type: "admin.client.rotate_secret"})
			if len(evs) != 1 || evs[0].Actor != "user:"+ownerID || strings.Contains(evs[0].Detail, secret) {
				t.Errorf("audit %+v", evs)
			}
			if again := b.Get(p.URL.String()); strings.Contains(again.Body, secret) {
				t.Errorf("reloading shows the secret again")
			}

			// Within 15 minutes the second factor is fresh: no step-up.
			srv.Advance(10 * time.Minute)
			second, _ := rotate(b.Get(srv.URL+"/console/applications/"+app.ClientID), false)

			// Past 15 minutes it is stale: StepGate asks again (password and
			// second factor) before the secret changes.
			srv.Advance(16 * time.Minute)
			p = b.Get(srv.URL + "/console/applications/" + app.ClientID)
			p = p.Form(e2e.WithButton("Rotate secret")).Submit().Form(e2e.WithButton("Confirm")).Submit()
			if e2e.InConsole(p) {
				t.Fatalf("a stale second factor rotated the secret: %s", p.URL)
			}
			if c, _ := srv.Store().GetClient(t.Context(), app.ClientID); c.SecretHash != op.HashSecret(second) {
				t.Fatalf("the secret changed before the step-up")
			}
			third := ""
			if s, ok := stepUp(t, srv, p, email, password).ByID("client-secret"); ok {
				third = s.Text()
			}
			if c, _ := srv.Store().GetClient(t.Context(), app.ClientID); third == "" || c.SecretHash != op.HashSecret(third) {
				t.Errorf("after the second step-up the secret is not the one shown")
			}
		})
	}
}

// otpBindings is how many confirmed authenticator bindings there are.
func otpBindings(t *testing.T, srv *e2e.Server) int64 {
	t.Helper()
	n, err := srv.Store().CountFactorsOfKind(t.Context(), storage.FactorTOTP)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// factorsOf reads a client's factors from the store.
func factorsOf(t *testing.T, srv *e2e.Server, id string) *storage.Client {
	t.Helper()
	c, err := srv.Store().GetClient(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConsoleTurnsOTPOnAndOffWithTheWarningDialog(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, _, email, password, ownerID := consoleServer(t, eng)
			aliceID := srv.CreateUser(testEmail, testPassword)
			app := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
			rp := e2e.NewRP(t, srv, app)
			ctx := t.Context()
			b, _ := openConsole(t, srv, "", email, password)
			mfaPage := srv.URL + "/console/applications/" + app.ClientID + "/mfa"

			// aliceBinds logs Alice in to the app, which binds an
			// authenticator (and its backup codes) at the password.
			aliceBinds := func(t *testing.T) {
				t.Helper()
				ab := e2e.NewBrowser(t, redirectURI)
				f := rp.Start()
				_, p := bindTOTP(t, srv, ab, testEmail, passwordStep(t, ab, f))
				rp.Callback(f, p.Form(e2e.WithButton("I have saved them — continue")).Submit())
			}
			// turnOff saves the factor page with OTP off and returns the
			// page the Save leads to.
			turnOff := func(t *testing.T, page string) *e2e.Page {
				t.Helper()
				return b.Get(page).Form(e2e.WithButton("Save")).Uncheck("otp", "on").Submit()
			}

			t.Run("nothing applies before Save; OTP on and Save: the user's next login binds", func(t *testing.T) {
				p := b.Get(mfaPage).Form(e2e.WithButton("Save")).Check("otp", "on").Set("period", "after").
					Set("period_value", "90").Set("period_unit", "minutes")
				if c := factorsOf(t, srv, app.ClientID); c.FactorOTP {
					t.Fatal("on before Save")
				}
				p2 := p.Submit()
				if !strings.Contains(notice(p2), "saved") || dialog(p2) != "" {
					t.Fatalf("after Save: %q %q", notice(p2), dialog(p2))
				}
				if c := factorsOf(t, srv, app.ClientID); !c.FactorOTP || c.FactorEmail || c.MFAMaxAge != 90*time.Minute {
					t.Errorf("stored otp=%t email=%t period=%v", c.FactorOTP, c.FactorEmail, c.MFAMaxAge)
				}
				evs := srv.Audit(storage.AuditFilter{Type: "admin.client.set_factors"})
				if len(evs) != 1 || evs[0].Actor != "user:"+ownerID {
					t.Errorf("audit %+v", evs)
				}
				if f := p2.Form(e2e.WithButton("Save")); f.Get("otp") != "on" || f.Get("period") != "after" ||
					f.Get("period_value") != "90" || f.Get("period_unit") != "minutes" {
					t.Errorf("the page shows %v", f.Values())
				}
				aliceBinds(t)
				if n := otpBindings(t, srv); n != 1 {
					t.Fatalf("%d bindings after Alice's login", n)
				}
			})

			t.Run("OTP off on the last application: the dialog counts the bindings and Cancel changes nothing", func(t *testing.T) {
				p := turnOff(t, mfaPage)
				if d := dialog(p); !strings.Contains(d, "1 user has bound OTP; disabling removes all bindings irreversibly") {
					t.Fatalf("dialog %q\n%s", d, p.Body)
				}
				if c := factorsOf(t, srv, app.ClientID); !c.FactorOTP || otpBindings(t, srv) != 1 {
					t.Fatal("changed before the confirmation")
				}
				cancel, ok := p.Link("Cancel")
				if !ok {
					t.Fatal("no Cancel in the dialog")
				}
				p = b.Get(cancel.String())
				if dialog(p) != "" || p.Form(e2e.WithButton("Save")).Get("otp") != "on" {
					t.Errorf("after Cancel: dialog %q, otp %q", dialog(p), p.Form(e2e.WithButton("Save")).Get("otp"))
				}
				if c := factorsOf(t, srv, app.ClientID); !c.FactorOTP || otpBindings(t, srv) != 1 {
					t.Error("Cancel changed something")
				}
				if evs := srv.Audit(storage.AuditFilter{Type: "admin.client.set_factors"}); len(evs) != 1 {
					t.Errorf("the preview was audited: %+v", evs)
				}
			})

			t.Run("Confirm steps up after a password-only sign-in, resumes, and removes every binding", func(t *testing.T) {
				p := turnOff(t, mfaPage).Form(e2e.WithButton("Confirm")).Submit()
				if e2e.InConsole(p) {
					t.Fatalf("no step-up: %s", p.URL)
				}
				if c := factorsOf(t, srv, app.ClientID); !c.FactorOTP || otpBindings(t, srv) != 1 {
					t.Fatal("changed before the step-up")
				}
				p = stepUp(t, srv, p, email, password)
				if !strings.Contains(notice(p), "1 authenticator binding was removed") {
					t.Errorf("notice %q", notice(p))
				}
				if c := factorsOf(t, srv, app.ClientID); c.FactorOTP || otpBindings(t, srv) != 0 {
					t.Errorf("after Confirm: otp=%t, %d bindings", c.FactorOTP, otpBindings(t, srv))
				}
				if n, err := srv.Store().CountUnusedBackupCodes(ctx, aliceID); err != nil || n != 0 {
					t.Errorf("%d backup codes left (%v)", n, err)
				}
				evs := srv.Audit(storage.AuditFilter{Type: "mfa.otp.remove"})
				if len(evs) != 1 || evs[0].Actor != "user:"+ownerID {
					t.Errorf("removal audit %+v", evs)
				}
			})

			t.Run("with a second application on OTP the dialog names it and Confirm keeps the bindings", func(t *testing.T) {
				second := srv.CreateClient("--name", "Second App", "--redirect-uri", redirectURI)
				srv.CLI("client", "set-factors", second.ClientID, "--otp=on")
				srv.CLI("client", "set-factors", app.ClientID, "--otp=on")
				aliceBinds(t)
				p := turnOff(t, mfaPage)
				if d := dialog(p); !strings.Contains(d, "Bindings are kept because “Second App” still use OTP") {
					t.Fatalf("dialog %q", d)
				}
				if c := factorsOf(t, srv, app.ClientID); !c.FactorOTP {
					t.Fatal("changed before the confirmation")
				}
				p = p.Form(e2e.WithButton("Confirm")).Submit() // the factor done above is fresh
				if !strings.Contains(notice(p), "kept because “Second App”") {
					t.Errorf("notice %q", notice(p))
				}
				if c := factorsOf(t, srv, app.ClientID); c.FactorOTP || otpBindings(t, srv) != 1 {
					t.Errorf("after Confirm: otp=%t, %d bindings", c.FactorOTP, otpBindings(t, srv))
				}

				// Deleting the last application on OTP asks twice and removes them.
				p = b.Get(srv.URL + "/console/applications/" + second.ClientID).Form(e2e.WithButton("Delete application")).Submit()
				if d := dialog(p); !strings.Contains(d, "Delete “Second App”?") {
					t.Fatalf("dialog %q", d)
				}
				p = p.Form(e2e.WithButton("Confirm")).Submit()
				if d := dialog(p); !strings.Contains(d, "1 user has bound OTP") {
					t.Fatalf("second dialog %q", d)
				}
				if _, err := srv.Store().GetClient(ctx, second.ClientID); err != nil || otpBindings(t, srv) != 1 {
					t.Fatalf("deleted before the second confirmation: %v", err)
				}
				p = p.Form(e2e.WithButton("Confirm")).Submit()
				if p.URL.Path != "/console/applications" || !strings.Contains(notice(p), "deleted") {
					t.Errorf("after deleting: %s %q", p.URL, notice(p))
				}
				if _, err := srv.Store().GetClient(ctx, second.ClientID); err == nil || otpBindings(t, srv) != 0 {
					t.Errorf("after the confirmed delete: %v, %d bindings", err, otpBindings(t, srv))
				}
			})
		})
	}
}
