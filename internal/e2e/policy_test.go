package e2e_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

// emailFactor completes the email tab from the factor page as Alice.
func emailFactor(t *testing.T, b *e2e.Browser, mail *e2e.Mailbox, p *e2e.Page) *e2e.Page {
	t.Helper()
	if !strings.Contains(p.Body, "Verify it's you") {
		t.Fatalf("expected the factor page, got %d at %s:\n%s", p.Status, p.URL, p.Body)
	}
	if !p.HasForm(e2e.WithAction("/login/email/send")) {
		p = b.Get(p.URL.String() + "&tab=email")
	}
	if p.HasForm(e2e.WithButton("Send code")) {
		p = p.Form(e2e.WithButton("Send code")).Submit()
	}
	return p.Form(e2e.WithAction("/login/email")).Set("code", mail.Code(testEmail)).Submit()
}

func TestPolicyAndStepUp(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, a, mail := mfaSetup(t, eng)
			ownerEmail, ownerPassword := srv.DevOwner()
			cb := srv.CreateClient("--name", "App B", "--redirect-uri", redirectURI)
			b2 := e2e.NewRP(t, srv, cb)

			t.Run("discovery advertises the claims parameter", func(t *testing.T) {
				resp, err := http.Get(srv.URL + "/.well-known/openid-configuration")
				if err != nil {
					t.Fatal(err)
				}
				var d map[string]any
				json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				if d["claims_parameter_supported"] != true {
					t.Errorf("claims_parameter_supported = %v", d["claims_parameter_supported"])
				}
			})

			t.Run("step-up from A to B asks only for the second factor", func(t *testing.T) {
				srv.CLI("client", "set-factors", b2.Config.ClientID, "--email=on")
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start()
				first := a.MustExchange(f, a.Login(b, f, testEmail, testPassword))
				if first.Claims["acr"] != "1fa" {
					t.Fatalf("A: acr %v", first.Claims["acr"])
				}
				f = b2.Start()
				p := b.Get(f.AuthURL)
				if isPasswordPage(p) {
					t.Fatal("B asked for the password again")
				}
				if p.Status == http.StatusSeeOther {
					p = b.Get(p.Redirect().String())
				}
				start := srv.Clock.Now().Add(-time.Second)
				q := b2.Callback(f, emailFactor(t, b, mail, p))
				tk := b2.MustExchange(f, q.Get("code"))
				if got := amrOf(tk.Claims["amr"]); !slices.Equal(got, []string{"pwd", "email", "mfa"}) || tk.Claims["acr"] != "2fa" {
					t.Errorf("B: amr=%v acr=%v", got, tk.Claims["acr"])
				}
				if at := tk.Claims["auth_time"].(float64); at < float64(start.Unix()) {
					t.Errorf("auth_time %v is not the second factor's time", at)
				}
				srv.CLI("client", "set-factors", b2.Config.ClientID, "--email=off")
			})

			t.Run("acr_values=2fa asks for a factor where policy would not, and the token says what was achieved", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start(oauth2.SetAuthURLParam("acr_values", "2fa"))
				p := loginAs(t, b, f, testEmail, testPassword)
				q := a.Callback(f, emailFactor(t, b, mail, p))
				if tk := a.MustExchange(f, q.Get("code")); tk.Claims["acr"] != "2fa" {
					t.Errorf("acr = %v", tk.Claims["acr"])
				}
				f = a.Start(oauth2.SetAuthURLParam("acr_values", "urn:unknown"))
				if q := a.Callback(f, b.Get(f.AuthURL)); q.Get("code") == "" {
					t.Errorf("unknown acr_values: %v", q)
				}
			})

			t.Run("an essential acr that cannot be met ends with unmet_authentication_requirements", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["urn:gold"]}}}`))
				// It can never be met, so it ends before the password.
				if q := a.Callback(f, b.Get(f.AuthURL)); q.Get("error") != "unmet_authentication_requirements" {
					t.Fatalf("got %v", q)
				}
				f = a.Start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				p := loginAs(t, b, f, testEmail, testPassword)
				if !strings.Contains(p.Body, "Verify it's you") {
					t.Errorf("essential 2fa did not ask for a factor: %d", p.Status)
				}
			})

			t.Run("prompt=none when a factor is needed answers interaction_required", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start()
				a.MustExchange(f, a.Login(b, f, testEmail, testPassword))
				f = a.Start(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("acr_values", "2fa"))
				if q := a.Callback(f, b.Get(f.AuthURL)); q.Get("error") != "interaction_required" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("re-authentication period 0 asks at every connection; N reuses within N", func(t *testing.T) {
				srv.CLI("client", "set-factors", a.Config.ClientID, "--email=on", "--mfa-max-age=0")
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start()
				q := a.Callback(f, emailFactor(t, b, mail, loginAs(t, b, f, testEmail, testPassword)))
				a.MustExchange(f, q.Get("code"))
				f = a.Start()
				if p := b.Get(f.AuthURL); !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("period 0: second connection did not ask again (%d)", p.Status)
				}
				// Period 2s: the email code just done counts for 2s.
				srv.CLI("client", "set-factors", a.Config.ClientID, "--mfa-max-age=2s")
				f = a.Start()
				if q := a.Callback(f, b.Get(f.AuthURL)); q.Get("code") == "" {
					t.Fatalf("period 2s: not reused at once: %v", q)
				}
				srv.Clock.Advance(2500 * time.Millisecond)
				f = a.Start()
				if p := b.Get(f.AuthURL); !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("period 2s: reused after it ended (%d)", p.Status)
				}
				srv.CLI("client", "set-factors", a.Config.ClientID, "--email=off", "--mfa-max-age=-1")
			})

			t.Run("bypass on skips the second factor; off asks for it again", func(t *testing.T) {
				srv.CLI("client", "set-factors", a.Config.ClientID, "--email=on")
				srv.CLI("user", "set-mfa-bypass", testEmail, "--on")
				b := e2e.NewBrowser(t, redirectURI)
				f := a.Start()
				tk := a.MustExchange(f, a.Login(b, f, testEmail, testPassword))
				if tk.Claims["acr"] != "1fa" || !slices.Equal(amrOf(tk.Claims["amr"]), []string{"pwd"}) {
					t.Fatalf("bypassed: amr=%v acr=%v", tk.Claims["amr"], tk.Claims["acr"])
				}
				srv.CLI("user", "set-mfa-bypass", testEmail, "--off")
				f = a.Start()
				p := b.Get(f.AuthURL)
				if !isPasswordPage(p) {
					t.Fatalf("after bypass off the old session still counted (%d)", p.Status)
				}
				p = b.Submit(p, map[string]string{"email": testEmail, "password": testPassword})
				if !strings.Contains(p.Body, "Verify it's you") {
					t.Fatalf("after bypass off no factor asked (%d)", p.Status)
				}
				srv.CLI("client", "set-factors", a.Config.ClientID, "--email=off")
			})

			t.Run("workspace policy: members must bind at first login, the owner is exempt", func(t *testing.T) {
				srv.CLI("workspace", "set", "--mfa-required=on")
				defer func() {
					// Turning the workspace policy off would remove the member's
					// binding (nothing else would use OTP: the last-OTP-user rule);
					// application A keeps OTP in use, and the next case needs it.
					srv.CLI("client", "set-factors", a.Config.ClientID, "--otp=on")
					srv.CLI("workspace", "set", "--mfa-required=off")
				}()
				owner := e2e.NewBrowser(t, redirectURI)
				f := a.Start()
				if tk := a.MustExchange(f, a.Login(owner, f, ownerEmail, ownerPassword)); tk.Claims["acr"] != "1fa" {
					t.Errorf("owner acr = %v", tk.Claims["acr"])
				}
				srv.CreateUser("new@example.com", "new member password")
				b := e2e.NewBrowser(t, redirectURI)
				f = a.Start()
				p := loginAs(t, b, f, "new@example.com", "new member password")
				if !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Fatalf("member not taken to binding: %d %s", p.Status, p.URL)
				}
				// Going around the setup page does not finish the login.
				p = b.Get(srv.URL + "/login?authRequestID=" + p.URL.Query().Get("authRequestID"))
				if !strings.Contains(p.Body, "Set up an authenticator app") || p.Header.Get("Location") != "" && strings.Contains(p.Header.Get("Location"), "code=") {
					t.Fatalf("member finished without binding: %d", p.Status)
				}
				p = b.Get(strings.Replace(p.URL.String(), "/login/totp/setup", "/login/factor", 1) + "&tab=email")
				if !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Fatalf("member could use email instead of binding: %d\n%s", p.Status, p.Body)
				}
				_, p = bindTOTP(t, srv, b, "new@example.com", p)
				if !strings.Contains(p.Body, "Save your backup codes") {
					t.Fatalf("binding did not finish: %d", p.Status)
				}
			})

			t.Run("turning OTP off keeps bindings while another application uses it, else removes them after confirmation", func(t *testing.T) {
				srv.CLI("client", "set-factors", a.Config.ClientID, "--otp=on")
				srv.CLI("client", "set-factors", b2.Config.ClientID, "--otp=on")
				out := srv.CLI("client", "set-factors", a.Config.ClientID, "--otp=off")
				if !strings.Contains(out, "bindings are kept") || !strings.Contains(out, "App B") {
					t.Fatalf("first OTP off: %s", out)
				}
				res := srv.RunCLI("", "client", "set-factors", b2.Config.ClientID, "--otp=off")
				if res.Code == 0 || !strings.Contains(res.Stderr, "--confirm-remove-bindings") || !strings.Contains(res.Stderr, "1 user(s)") {
					t.Fatalf("last OTP off without confirmation: %d %s", res.Code, res.Output)
				}
				out = srv.CLI("client", "set-factors", b2.Config.ClientID, "--otp=off", "--confirm-remove-bindings")
				if !strings.Contains(out, "removed 1 authenticator binding") {
					t.Fatalf("confirmed: %s", out)
				}
				// On again: the member must bind anew.
				srv.CLI("client", "set-factors", b2.Config.ClientID, "--otp=on")
				b := e2e.NewBrowser(t, redirectURI)
				f := b2.Start()
				p := loginAs(t, b, f, "new@example.com", "new member password")
				if !strings.Contains(p.Body, "Set up an authenticator app") {
					t.Fatalf("after removal the member was not asked to bind again: %d", p.Status)
				}
			})
		})
	}
}
