package cli

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/mail/mailtest"
)

// devOwner is the owner --dev created, with the password it printed once.
func devOwner(t *testing.T, srv *testServer) (string, string) {
	m := regexp.MustCompile(`owner:\s+(\S+) / (\S+)`).FindStringSubmatch(srv.logs.String())
	if m == nil {
		t.Fatal("dev owner credentials not printed")
	}
	return m[1], m[2]
}

// loginAs runs the password step for any user.
func loginAs(t *testing.T, b *browser, f flow, email, password string) page {
	t.Helper()
	return b.submit(b.get(f.authURL), map[string]string{"email": email, "password": password})
}

// emailFactor completes the email tab from the factor page.
func emailFactor(t *testing.T, b *browser, smtp *mailtest.Server, seen *int, p page) page {
	t.Helper()
	if !strings.Contains(p.body, "Verify it's you") {
		t.Fatalf("expected the factor page, got %d at %s:\n%s", p.status, p.url, p.body)
	}
	if !strings.Contains(p.body, "We will email") && !strings.Contains(p.body, "Send a new code") {
		p = b.get(p.url.String() + "&tab=email")
	}
	if strings.Contains(p.body, "We will email") {
		p = b.submit(p, nil)
	}
	return b.submit(p, map[string]string{"code": emailedCode(t, smtp, seen)})
}

func isPasswordPage(p page) bool { return strings.Contains(p.body, `name="password"`) }

func TestPolicyAndStepUp(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, a, smtp := mfaSetup(t, database)
			seen := 0
			ownerEmail, ownerPassword := devOwner(t, srv)
			cb := srv.createClient("--name", "App B", "--redirect-uri", redirectURI)
			b2 := newRP(t, srv, cb)

			t.Run("discovery advertises the claims parameter", func(t *testing.T) {
				resp, err := http.Get(srv.issuer + "/.well-known/openid-configuration")
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
				srv.cli("", "client", "set-factors", b2.conf.ClientID, "--email=on")
				b := newBrowser(t, redirectURI)
				f := a.start()
				first := a.mustExchange(f, a.login(b, f, testEmail, testPassword))
				if first.claims["acr"] != "1fa" {
					t.Fatalf("A: acr %v", first.claims["acr"])
				}
				f = b2.start()
				p := b.get(f.authURL)
				if isPasswordPage(p) {
					t.Fatal("B asked for the password again")
				}
				if p.status == http.StatusSeeOther {
					p = b.get(p.url.ResolveReference(p.redirect()).String())
				}
				start := srv.clock.Now().Add(-time.Second)
				q := b2.callback(f, emailFactor(t, b, smtp, &seen, p))
				tk := b2.mustExchange(f, q.Get("code"))
				if got := amrOf(tk.claims["amr"]); !slices.Equal(got, []string{"pwd", "email", "mfa"}) || tk.claims["acr"] != "2fa" {
					t.Errorf("B: amr=%v acr=%v", got, tk.claims["acr"])
				}
				if at := tk.claims["auth_time"].(float64); at < float64(start.Unix()) {
					t.Errorf("auth_time %v is not the second factor's time", at)
				}
				srv.cli("", "client", "set-factors", b2.conf.ClientID, "--email=off")
			})

			t.Run("acr_values=2fa asks for a factor where policy would not, and the token says what was achieved", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := a.start(oauth2.SetAuthURLParam("acr_values", "2fa"))
				p := loginAs(t, b, f, testEmail, testPassword)
				q := a.callback(f, emailFactor(t, b, smtp, &seen, p))
				if tk := a.mustExchange(f, q.Get("code")); tk.claims["acr"] != "2fa" {
					t.Errorf("acr = %v", tk.claims["acr"])
				}
				f = a.start(oauth2.SetAuthURLParam("acr_values", "urn:unknown"))
				if q := a.callback(f, b.get(f.authURL)); q.Get("code") == "" {
					t.Errorf("unknown acr_values: %v", q)
				}
			})

			t.Run("an essential acr that cannot be met ends with unmet_authentication_requirements", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := a.start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["urn:gold"]}}}`))
				// It can never be met, so it ends before the password.
				if q := a.callback(f, b.get(f.authURL)); q.Get("error") != "unmet_authentication_requirements" {
					t.Fatalf("got %v", q)
				}
				f = a.start(oauth2.SetAuthURLParam("claims", `{"id_token":{"acr":{"essential":true,"values":["2fa"]}}}`))
				p := loginAs(t, b, f, testEmail, testPassword)
				if !strings.Contains(p.body, "Verify it's you") {
					t.Errorf("essential 2fa did not ask for a factor: %d", p.status)
				}
			})

			t.Run("prompt=none when a factor is needed answers interaction_required", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := a.start()
				a.mustExchange(f, a.login(b, f, testEmail, testPassword))
				f = a.start(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("acr_values", "2fa"))
				if q := a.callback(f, b.get(f.authURL)); q.Get("error") != "interaction_required" {
					t.Fatalf("got %v", q)
				}
			})

			t.Run("re-authentication period 0 asks at every connection; N reuses within N", func(t *testing.T) {
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--email=on", "--mfa-max-age=0")
				b := newBrowser(t, redirectURI)
				f := a.start()
				q := a.callback(f, emailFactor(t, b, smtp, &seen, loginAs(t, b, f, testEmail, testPassword)))
				a.mustExchange(f, q.Get("code"))
				f = a.start()
				if p := b.get(f.authURL); !strings.Contains(p.body, "Verify it's you") {
					t.Fatalf("period 0: second connection did not ask again (%d)", p.status)
				}
				// Period 2s: the email code just done counts for 2s.
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--mfa-max-age=2s")
				f = a.start()
				if q := a.callback(f, b.get(f.authURL)); q.Get("code") == "" {
					t.Fatalf("period 2s: not reused at once: %v", q)
				}
				srv.clock.Advance(2500 * time.Millisecond)
				f = a.start()
				if p := b.get(f.authURL); !strings.Contains(p.body, "Verify it's you") {
					t.Fatalf("period 2s: reused after it ended (%d)", p.status)
				}
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--email=off", "--mfa-max-age=-1")
			})

			t.Run("bypass on skips the second factor; off asks for it again", func(t *testing.T) {
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--email=on")
				srv.cli("", "user", "set-mfa-bypass", testEmail, "--on")
				b := newBrowser(t, redirectURI)
				f := a.start()
				tk := a.mustExchange(f, a.login(b, f, testEmail, testPassword))
				if tk.claims["acr"] != "1fa" || !slices.Equal(amrOf(tk.claims["amr"]), []string{"pwd"}) {
					t.Fatalf("bypassed: amr=%v acr=%v", tk.claims["amr"], tk.claims["acr"])
				}
				srv.cli("", "user", "set-mfa-bypass", testEmail, "--off")
				f = a.start()
				p := b.get(f.authURL)
				if !isPasswordPage(p) {
					t.Fatalf("after bypass off the old session still counted (%d)", p.status)
				}
				p = b.submit(p, map[string]string{"email": testEmail, "password": testPassword})
				if !strings.Contains(p.body, "Verify it's you") {
					t.Fatalf("after bypass off no factor asked (%d)", p.status)
				}
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--email=off")
			})

			t.Run("workspace policy: members must bind at first login, the owner is exempt", func(t *testing.T) {
				srv.cli("", "workspace", "set", "--mfa-required=on")
				defer srv.cli("", "workspace", "set", "--mfa-required=off")
				owner := newBrowser(t, redirectURI)
				f := a.start()
				if tk := a.mustExchange(f, a.login(owner, f, ownerEmail, ownerPassword)); tk.claims["acr"] != "1fa" {
					t.Errorf("owner acr = %v", tk.claims["acr"])
				}
				srv.createUser("new@example.com", "new member password")
				b := newBrowser(t, redirectURI)
				f = a.start()
				p := loginAs(t, b, f, "new@example.com", "new member password")
				if !strings.Contains(p.body, "Set up an authenticator app") {
					t.Fatalf("member not taken to binding: %d %s", p.status, p.url)
				}
				// Going around the setup page does not finish the login.
				p = b.get(srv.issuer + "/login?authRequestID=" + p.url.Query().Get("authRequestID"))
				if !strings.Contains(p.body, "Set up an authenticator app") || p.header.Get("Location") != "" && strings.Contains(p.header.Get("Location"), "code=") {
					t.Fatalf("member finished without binding: %d", p.status)
				}
				p = b.get(strings.Replace(p.url.String(), "/login/totp/setup", "/login/factor", 1) + "&tab=email")
				if !strings.Contains(p.body, "Set up an authenticator app") {
					t.Fatalf("member could use email instead of binding: %d\n%s", p.status, p.body)
				}
				_, p = bindTOTP(t, srv, b, smtp, &seen, p)
				if !strings.Contains(p.body, "Save your backup codes") {
					t.Fatalf("binding did not finish: %d", p.status)
				}
			})

			t.Run("turning OTP off keeps bindings while another application uses it, else removes them after confirmation", func(t *testing.T) {
				srv.cli("", "client", "set-factors", a.conf.ClientID, "--otp=on")
				srv.cli("", "client", "set-factors", b2.conf.ClientID, "--otp=on")
				out := srv.cli("", "client", "set-factors", a.conf.ClientID, "--otp=off")
				if !strings.Contains(out, "bindings are kept") || !strings.Contains(out, "App B") {
					t.Fatalf("first OTP off: %s", out)
				}
				out, code := srv.cliCode("", "client", "set-factors", b2.conf.ClientID, "--otp=off")
				if code == 0 || !strings.Contains(out, "--confirm-remove-bindings") || !strings.Contains(out, "1 user(s)") {
					t.Fatalf("last OTP off without confirmation: %d %s", code, out)
				}
				out = srv.cli("", "client", "set-factors", b2.conf.ClientID, "--otp=off", "--confirm-remove-bindings")
				if !strings.Contains(out, "removed 1 authenticator binding") {
					t.Fatalf("confirmed: %s", out)
				}
				// On again: the member must bind anew.
				srv.cli("", "client", "set-factors", b2.conf.ClientID, "--otp=on")
				b := newBrowser(t, redirectURI)
				f := b2.start()
				p := loginAs(t, b, f, "new@example.com", "new member password")
				if !strings.Contains(p.body, "Set up an authenticator app") {
					t.Fatalf("after removal the member was not asked to bind again: %d", p.status)
				}
			})
		})
	}
}
