package cli

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/mail/mailtest"
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

// formFields are the hidden fields of a page: the CSRF token and the
// authorization request.
func formFields(p page) url.Values {
	form := url.Values{}
	for _, h := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		form.Set(h[1], unescapeHTML(h[2]))
	}
	return form
}

// TestEveryLoginPostObeysTheDecision posts every route of the login flow
// with a valid CSRF token and authorization request in every kind of
// decision, and checks that what the decision does not permit changes
// nothing: no audit row (no attempt counted, no password checked), no
// email, no code for the client; the answer is a 303 to the page the
// decision calls for.
func TestEveryLoginPostObeysTheDecision(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, smtp := mfaSetup(t, database)
			srv.createUser("bob@example.com", "bob password 123")

			refused := func(t *testing.T, b *browser, form url.Values, allowed map[string]bool, codeOK bool) {
				t.Helper()
				for _, route := range loginRoutes {
					if allowed[route] {
						continue
					}
					audits, mails := len(srv.auditOf(storage.AuditFilter{})), len(smtp.Messages())
					f := url.Values{}
					for k, v := range form {
						f[k] = v
					}
					f.Set("code", "123456")
					f.Set("email", testEmail)
					f.Set("password", testPassword)
					p := b.post(srv.issuer+route, f)
					if p.from != http.StatusSeeOther && p.status != http.StatusSeeOther {
						t.Errorf("%s answered %d (after %d), want a 303", route, p.status, p.from)
					}
					if loc := p.header.Get("Location"); !codeOK && strings.Contains(loc, "code=") {
						t.Errorf("%s issued a code: %s", route, loc)
					}
					if n := len(srv.auditOf(storage.AuditFilter{})); n != audits {
						t.Errorf("%s wrote %d audit rows", route, n-audits)
					}
					if n := len(smtp.Messages()); n != mails {
						t.Errorf("%s sent %d emails", route, n-mails)
					}
				}
			}

			t.Run("NextPassword allows only the password", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				p := b.get(r.start().authURL)
				refused(t, b, formFields(p), map[string]bool{"/login/password": true}, false)
			})

			t.Run("NextFactor allows only its factors", func(t *testing.T) {
				srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=on")
				defer srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=off")
				b := newBrowser(t, redirectURI)
				p := passwordStep(t, b, r.start())
				refused(t, b, formFields(p), map[string]bool{"/login/email/send": true, "/login/email": true}, false)
			})

			t.Run("NextFactor with MustBind allows only the binding steps; the reported bypass fails", func(t *testing.T) {
				srv.cli("", "workspace", "set", "--mfa-required=on")
				defer srv.cli("", "workspace", "set", "--mfa-required=off")
				b := newBrowser(t, redirectURI)
				f := r.start()
				p := loginAs(t, b, f, "bob@example.com", "bob password 123")
				if !strings.Contains(p.body, "Set up an authenticator app") {
					t.Fatalf("not on the binding page: %d %s", p.status, p.url)
				}
				form := formFields(p)
				refused(t, b, form, map[string]bool{
					"/login/totp/send": true, "/login/totp/verify-email": true, "/login/totp/confirm": true}, false)

				// The report: the email-code forms posted from the binding
				// page, with the mailed code, must not complete the login.
				mails := len(smtp.Messages())
				b.post(srv.issuer+"/login/email/send", form)
				if n := len(smtp.Messages()); n != mails {
					t.Fatalf("/login/email/send mailed %d codes during mandatory binding", n-mails)
				}
				p = b.submit(p, nil) // the binding page's own "Send code"
				seen := mails
				code := emailedCode(t, smtp, &seen)
				form.Set("code", code)
				p = b.post(srv.issuer+"/login/email", form)
				if loc := p.header.Get("Location"); strings.Contains(loc, "code=") || strings.HasPrefix(loc, redirectURI) {
					t.Fatalf("the mailed code completed the login without binding: %s", loc)
				}
				if !strings.Contains(p.body, "Set up an authenticator app") {
					t.Fatalf("after the refused step: %d %s", p.status, p.url)
				}
				// And the request still cannot be finished without binding.
				if p := b.get(srv.issuer + "/login?authRequestID=" + url.QueryEscape(form.Get("authRequestID"))); strings.Contains(p.header.Get("Location"), "code=") {
					t.Fatal("login finished without binding")
				}
			})

			t.Run("NextDone allows nothing", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				open := formFields(b.get(r.start().authURL)) // a request left on its password page
				f := r.start()
				r.mustExchange(f, r.login(b, f, testEmail, testPassword)) // the session now satisfies it
				refused(t, b, open, nil, true)
				if p := b.post(srv.issuer+"/login/cancel", open); strings.Contains(p.header.Get("Location"), "access_denied") {
					t.Error("cancel ran although the decision is done")
				}
			})

			t.Run("NextError allows nothing", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				csrf := formFields(b.get(r.start().authURL)).Get("csrf_token")
				f := r.start(oauth2.SetAuthURLParam("prompt", "none"))
				p := b.get(f.authURL)
				if q := r.callback(f, p); q.Get("error") != "login_required" {
					t.Fatalf("prompt=none: %v", q)
				}
				form := url.Values{"csrf_token": {csrf}, "authRequestID": {p.url.Query().Get("authRequestID")}}
				if form.Get("authRequestID") == "" {
					t.Fatalf("no authRequestID in %s", p.url)
				}
				refused(t, b, form, nil, false)
				if p := b.post(srv.issuer+"/login/cancel", form); strings.Contains(p.header.Get("Location"), "access_denied") {
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
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, smtp := mfaSetup(t, database)
			seen := 0
			srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=on")
			b := newBrowser(t, redirectURI)
			f := r.start()
			p := passwordStep(t, b, f)
			p = b.submit(p, nil) // Send code
			code := emailedCode(t, smtp, &seen)
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			for i := 0; i < 6; i++ {
				p = b.submit(p, map[string]string{"code": wrong})
			}
			if !p.refused("locked until ") || !strings.Contains(p.body, "about 1 hour") {
				t.Fatalf("sixth wrong code: %d after %d:\n%s", p.status, p.from, p.body)
			}
			if strings.Contains(p.body, "Send") || strings.Contains(p.body, `name="code"`) {
				t.Fatalf("locked page offers a code or sending one:\n%s", p.body)
			}

			t.Run("an essential acr 2fa ends with unmet_authentication_requirements", func(t *testing.T) {
				f := r.start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				q := r.callback(f, b.get(f.authURL)) // checks state
				if q.Get("error") != "unmet_authentication_requirements" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("the way back ends the request with access_denied", func(t *testing.T) {
				q := r.callback(f, b.submit(p, nil)) // the only form: cancel
				if q.Get("error") != "access_denied" || q.Get("code") != "" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("after unlock the essential acr asks for the factor again", func(t *testing.T) {
				srv.cli("", "user", "unlock", testEmail)
				f := r.start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				if p := b.get(f.authURL); !strings.Contains(p.body, "Verify it's you") {
					t.Fatalf("after unlock: %d %s", p.status, p.url)
				}
			})
		})
	}
}

var backLink = regexp.MustCompile(`<a href="([^"]+)">Back</a>`)

// TestFirstTabIsOneTheUserCanFinish: without an authenticator, on an
// application that also allows email, the email tab comes first; the
// setup page's "Back" never leads back to the setup page.
func TestFirstTabIsOneTheUserCanFinish(t *testing.T) {
	dir := t.TempDir()
	smtp := mailtest.NewServer(t)
	srv := startServer(t, "sqlite://"+dir+"/stepgate.db", dir, "--smtp-url", smtp.URL())
	srv.createUser(testEmail, testPassword)
	r := newRP(t, srv, srv.createClient("--name", "App", "--redirect-uri", redirectURI))
	srv.cli("", "client", "set-factors", r.conf.ClientID, "--otp=on", "--email=on")

	b := newBrowser(t, redirectURI)
	p := passwordStep(t, b, r.start())
	if !strings.Contains(p.body, "We will email a 6-digit code") || strings.Contains(p.body, "Set up an authenticator app</a>") {
		t.Fatalf("first tab is not the email form:\n%s", p.body)
	}
	if e, o := strings.Index(p.body, ">Email code<"), strings.Index(p.body, ">Authenticator app<"); e < 0 || o < 0 || e > o {
		t.Errorf("email tab is not first (email at %d, authenticator at %d)", e, o)
	}
	setup := b.get(strings.Replace(p.url.String(), "/login/factor", "/login/totp/setup", 1))
	m := backLink.FindStringSubmatch(setup.body)
	if m == nil {
		t.Fatalf("no Back on the setup page:\n%s", setup.body)
	}
	back, _ := setup.url.Parse(unescapeHTML(m[1]))
	if p := b.get(back.String()); strings.Contains(p.url.Path, "/login/totp/setup") || !strings.Contains(p.body, "We will email") {
		t.Errorf("Back led to %s", p.url)
	}

	// When binding is the only way forward there is no Back to loop
	// through, only the way back to the application.
	srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=off")
	b = newBrowser(t, redirectURI)
	p = passwordStep(t, b, r.start())
	if !strings.Contains(p.body, "Set up an authenticator app") {
		t.Fatalf("OTP-only: not on the setup page: %s", p.url)
	}
	if m := backLink.FindStringSubmatch(p.body); m != nil {
		back, _ := p.url.Parse(unescapeHTML(m[1]))
		if q := b.get(back.String()); strings.Contains(q.url.Path, "/login/totp/setup") {
			t.Errorf("Back loops to the setup page: %s", m[1])
		}
	}
	if !strings.Contains(p.body, "/login/cancel") {
		t.Error("no way back to the application on the must-bind setup page")
	}
}
