package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/storage"
)

// loginRoutes are every form POST of the login flow the decision gates:
// all but cancel (which ends the request and is checked on its own) and
// "I have saved them" (/login/backup-codes/saved, gated by the codes kept
// for this browser's session; TestSecondFactors checks another browser
// cannot confirm them away).
var loginRoutes = []string{
	"/login/password", "/login/otp", "/login/email/send", "/login/email", "/login/backup",
	"/login/totp/send", "/login/totp/verify-email", "/login/totp/confirm",
}

// TestEveryLoginPostObeysTheDecision posts every route of the login flow
// with a valid CSRF token and authorization request in every kind of
// decision, and checks that what the decision does not permit changes
// nothing: no audit row (no attempt counted, no password checked), no
// email, no code for the client; the answer is a 303 to the page the
// decision calls for.
func TestEveryLoginPostObeysTheDecision(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, mail := mfaSetup(t, eng)
			srv.CreateUser("bob@example.com", "bob password 123")

			refused := func(t *testing.T, b *e2e.Browser, form url.Values, allowed map[string]bool, codeOK bool) {
				t.Helper()
				for _, route := range loginRoutes {
					if allowed[route] {
						continue
					}
					audits, mails := len(srv.Audit(storage.AuditFilter{})), len(mail.Messages())
					f := url.Values{}
					for k, v := range form {
						f[k] = v
					}
					f.Set("code", "123456")
					f.Set("email", testEmail)
					f.Set("password", testPassword)
					p := b.Post(srv.URL+route, f)
					if p.From != http.StatusSeeOther && p.Status != http.StatusSeeOther {
						t.Errorf("%s answered %d (after %d), want a 303", route, p.Status, p.From)
					}
					if loc := p.Header.Get("Location"); !codeOK && strings.Contains(loc, "code=") {
						t.Errorf("%s issued a code: %s", route, loc)
					}
					if n := len(srv.Audit(storage.AuditFilter{})); n != audits {
						t.Errorf("%s wrote %d audit rows", route, n-audits)
					}
					if n := len(mail.Messages()); n != mails {
						t.Errorf("%s sent %d emails", route, n-mails)
					}
				}
			}

			t.Run("NextPassword allows only the password", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				p := b.Get(r.Start().AuthURL)
				refused(t, b, formFields(p), map[string]bool{"/login/password": true}, false)
			})

			t.Run("NextFactor allows only its factors", func(t *testing.T) {
				srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on")
				defer srv.CLI("client", "set-factors", r.Config.ClientID, "--email=off")
				b := e2e.NewBrowser(t, redirectURI)
				p := passwordStep(t, b, r.Start())
				refused(t, b, formFields(p), map[string]bool{"/login/email/send": true, "/login/email": true}, false)
			})

			t.Run("NextFactor with MustBind allows only the binding steps; the reported bypass fails", func(t *testing.T) {
				srv.CLI("workspace", "set", "--mfa-required=on")
				defer srv.CLI("workspace", "set", "--mfa-required=off")
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := loginAs(t, b, f, "bob@example.com", "bob password 123")
				if !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Fatalf("not on the binding page: %d %s", p.Status, p.URL)
				}
				form := formFields(p)
				refused(t, b, form, map[string]bool{
					"/login/totp/send": true, "/login/totp/verify-email": true, "/login/totp/confirm": true}, false)

				// The report: the email-code forms posted from the binding
				// page, with the mailed code, must not complete the login.
				mails := len(mail.Messages())
				b.Post(srv.URL+"/login/email/send", form)
				if n := len(mail.Messages()); n != mails {
					t.Fatalf("/login/email/send mailed %d codes during mandatory binding", n-mails)
				}
				p = p.Form(e2e.WithButton("Send code")).Submit() // the binding page's own
				code := mail.Code("bob@example.com")
				form.Set("code", code)
				p = b.Post(srv.URL+"/login/email", form)
				if loc := p.Header.Get("Location"); strings.Contains(loc, "code=") || strings.HasPrefix(loc, redirectURI) {
					t.Fatalf("the mailed code completed the login without binding: %s", loc)
				}
				if !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Fatalf("after the refused step: %d %s", p.Status, p.URL)
				}
				// And the request still cannot be finished without binding.
				if p := b.Get(srv.URL + "/login?authRequestID=" + url.QueryEscape(form.Get("authRequestID"))); strings.Contains(p.Header.Get("Location"), "code=") {
					t.Fatal("login finished without binding")
				}
			})

			t.Run("NextDone allows nothing", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				open := formFields(b.Get(r.Start().AuthURL)) // a request left on its password page
				f := r.Start()
				r.MustExchange(f, r.Login(b, f, testEmail, testPassword)) // the session now satisfies it
				refused(t, b, open, nil, true)
				if p := b.Post(srv.URL+"/login/cancel", open); strings.Contains(p.Header.Get("Location"), "access_denied") {
					t.Error("cancel ran although the decision is done")
				}
			})

			t.Run("NextError allows nothing", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				csrf := formFields(b.Get(r.Start().AuthURL)).Get("csrf_token")
				f := r.Start(oauth2.SetAuthURLParam("prompt", "none"))
				p := b.Get(f.AuthURL)
				if q := r.Callback(f, p); q.Get("error") != "login_required" {
					t.Fatalf("prompt=none: %v", q)
				}
				form := url.Values{"csrf_token": {csrf}, "authRequestID": {p.URL.Query().Get("authRequestID")}}
				if form.Get("authRequestID") == "" {
					t.Fatalf("no authRequestID in %s", p.URL)
				}
				refused(t, b, form, nil, false)
				if p := b.Post(srv.URL+"/login/cancel", form); strings.Contains(p.Header.Get("Location"), "access_denied") {
					t.Error("cancel ran although the decision is an error")
				}
			})
		})
	}
}

// TestLockedUser: the attempt that locks says until when; a locked user
// is offered no code and no "send code" but a way back to the application
// (access_denied); an essential acr 2fa for them ends at once with
// unmet_authentication_requirements and the state.
func TestLockedUser(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, mail := mfaSetup(t, eng)
			srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on")
			b := e2e.NewBrowser(t, redirectURI)
			f := r.Start()
			p := passwordStep(t, b, f)
			p = p.Form(e2e.WithButton("Send code")).Submit()
			code := mail.Code(testEmail)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := 0; i < 6; i++ {
				p = b.Submit(p, map[string]string{"code": wrong})
			}
			if !p.Refused("locked until ") || !strings.Contains(p.Body, "about 1 hour") {
				t.Fatalf("sixth wrong code: %d after %d:\n%s", p.Status, p.From, p.Body)
			}
			if strings.Contains(p.Body, "Send") || strings.Contains(p.Body, `name="code"`) {
				t.Fatalf("locked page offers a code or sending one:\n%s", p.Body)
			}

			t.Run("an essential acr 2fa ends with unmet_authentication_requirements", func(t *testing.T) {
				f := r.Start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				q := r.Callback(f, b.Get(f.AuthURL)) // checks state
				if q.Get("error") != "unmet_authentication_requirements" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("the way back ends the request with access_denied", func(t *testing.T) {
				q := r.Callback(f, p.Form(e2e.WithAction("/login/cancel")).Submit()) // the only form
				if q.Get("error") != "access_denied" || q.Get("code") != "" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("after unlock the essential acr asks for the factor again", func(t *testing.T) {
				srv.CLI("user", "unlock", testEmail)
				f := r.Start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				if p := b.Get(f.AuthURL); !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("after unlock: %d %s", p.Status, p.URL)
				}
			})
		})
	}
}

// TestFirstTabIsOneTheUserCanFinish: without an authenticator, on an
// application that also allows email, the email tab comes first; the
// setup page's "Back" never leads back to the setup page.
func TestFirstTabIsOneTheUserCanFinish(t *testing.T) {
	srv := e2e.Start(t, e2e.Options{Mail: e2e.NewMailbox(t)})
	srv.CreateUser(testEmail, testPassword)
	r := e2e.NewRP(t, srv, srv.CreateClient("--name", "App", "--redirect-uri", redirectURI))
	srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=on", "--email=on")

	b := e2e.NewBrowser(t, redirectURI)
	p := passwordStep(t, b, r.Start())
	if !strings.Contains(p.Body, "We will email a 6-digit code") || strings.Contains(p.Body, "Set up an authenticator app</a>") {
		t.Fatalf("first tab is not the email form:\n%s", p.Body)
	}
	if e, o := strings.Index(p.Body, ">Email code<"), strings.Index(p.Body, ">Authenticator app<"); e < 0 || o < 0 || e > o {
		t.Errorf("email tab is not first (email at %d, authenticator at %d)", e, o)
	}
	setup := b.Get(strings.Replace(p.URL.String(), "/login/factor", "/login/totp/setup", 1))
	back, ok := setup.Link("Back")
	if !ok {
		t.Fatalf("no Back on the setup page:\n%s", setup.Body)
	}
	if p := b.Get(back.String()); strings.Contains(p.URL.Path, "/login/totp/setup") || !strings.Contains(p.Body, "We will email") {
		t.Errorf("Back led to %s", p.URL)
	}

	// When binding is the only way forward there is no Back to loop
	// through, only the way back to the application.
	srv.CLI("client", "set-factors", r.Config.ClientID, "--email=off")
	b = e2e.NewBrowser(t, redirectURI)
	p = passwordStep(t, b, r.Start())
	if !strings.Contains(p.Body, "Set up an authenticator app") {
		t.Fatalf("OTP-only: not on the setup page: %s", p.URL)
	}
	if back, ok := p.Link("Back"); ok {
		if q := b.Get(back.String()); strings.Contains(q.URL.Path, "/login/totp/setup") {
			t.Errorf("Back loops to the setup page: %s", back)
		}
	}
	if !p.HasForm(e2e.WithAction("/login/cancel")) {
		t.Error("no way back to the application on the must-bind setup page")
	}
}
