package cli

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"image"
	_ "image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/mail/mailtest"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// mfaSetup starts a server that mails through a real (in-process) SMTP
// server, with one user and one client.
func mfaSetup(t *testing.T, database func(*testing.T, string) string, extra ...string) (*testServer, *rp, *mailtest.Server) {
	smtp := mailtest.NewServer(t)
	dir := t.TempDir()
	srv := startServer(t, database(t, dir), dir, append([]string{"--smtp-url", smtp.URL()}, extra...)...)
	srv.createUser(testEmail, testPassword, "--name", "Alice")
	c := srv.createClient("--name", "Test App", "--redirect-uri", redirectURI, "--post-logout-redirect-uri", logoutURI)
	return srv, newRP(t, srv, c), smtp
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// emailedCode waits for the next message to the user and returns its code.
func emailedCode(t *testing.T, smtp *mailtest.Server, seen *int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msgs := smtp.Messages()
		if len(msgs) > *seen {
			m := msgs[len(msgs)-1]
			*seen = len(msgs)
			code := sixDigits.FindStringSubmatch(m.Text)
			if code == nil {
				t.Fatalf("no code in email %q", m.Text)
			}
			return code[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no email arrived")
	return ""
}

// passwordStep opens the authorization URL and submits the password; the
// browser then stands on whatever page comes next.
func passwordStep(t *testing.T, b *browser, f flow) page {
	t.Helper()
	p := b.get(f.authURL)
	return b.submit(p, map[string]string{"email": testEmail, "password": testPassword})
}

var manualKey = regexp.MustCompile(`<code class="key" id="manual-key">([A-Z2-7 ]+)</code>`)
var qrImage = regexp.MustCompile(`<img src="data:image/png;base64,([^"]+)"`)

// bindTOTP walks the binding pages from the setup page: emailed code, QR
// and manual key, confirmation. It returns the secret read from the manual
// key (checked against the QR code) and the page after confirming.
func bindTOTP(t *testing.T, srv *testServer, b *browser, smtp *mailtest.Server, seen *int, p page) ([]byte, page) {
	t.Helper()
	if !strings.Contains(p.body, "Set up an authenticator app") {
		t.Fatalf("expected the setup page, got %d %s:\n%s", p.status, p.url, p.body)
	}
	p = b.submit(p, nil) // "Send code"
	p = b.submit(p, map[string]string{"code": emailedCode(t, smtp, seen)})
	m := manualKey.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no manual key on the scan page:\n%s", p.body)
	}
	key := strings.ReplaceAll(m[1], " ", "")
	secret, err := base32NoPad.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	// The QR code encodes the same otpauth URI.
	q := qrImage.FindStringSubmatch(p.body)
	if q == nil {
		t.Fatal("no QR code image")
	}
	png, _ := base64.StdEncoding.DecodeString(unescapeHTML(q[1]))
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	uri, _ := url.Parse(res.GetText())
	if uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != key ||
		!strings.Contains(uri.Path, "@") || uri.Query().Get("issuer") != "StepGate" {
		t.Fatalf("QR URI %q does not match the manual key %s", res.GetText(), key)
	}
	srv.awayFromStepEdge()
	p = b.submit(p, map[string]string{"code": mfa.TOTPCode(secret, srv.clock.Now())})
	return secret, p
}

// awayFromStepEdge moves the server's clock out of the last two seconds
// of a 30-second TOTP step, so that a code computed now is checked in the
// same step.
func (s *testServer) awayFromStepEdge() {
	if r := 30 - s.clock.Now().Unix()%30; r <= 2 {
		s.clock.Advance(time.Duration(r)*time.Second + 100*time.Millisecond)
	}
}

// advanceToStep moves the server's clock one second into TOTP step n, if
// it is not there yet.
func (s *testServer) advanceToStep(n int64) {
	if now := s.clock.Now(); mfa.TOTPStep(now) < n {
		s.clock.Advance(time.Unix(n*30+1, 0).Sub(now))
	}
}

var backupCodeRe = regexp.MustCompile(`<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>`)

func TestSecondFactors(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, smtp := mfaSetup(t, database)
			seen := 0

			t.Run("email code completes the login with pwd, email, mfa", func(t *testing.T) {
				srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=on", "--otp=off")
				b := newBrowser(t, redirectURI)
				f := r.start()
				p := passwordStep(t, b, f)
				if !strings.Contains(p.body, "We will email a 6-digit code") {
					t.Fatalf("expected the email tab, got %d:\n%s", p.status, p.body)
				}
				p = b.submit(p, nil)
				code := emailedCode(t, smtp, &seen)
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				bad := b.submit(p, map[string]string{"code": wrong})
				if !bad.refused("The code is not valid.") {
					t.Fatalf("wrong code answered %d after %d", bad.status, bad.from)
				}
				// A reload of the wrong-code page shows it again and counts
				// no other failure.
				failures := len(srv.auditOf(storage.AuditFilter{Result: storage.ResultFailure}))
				if again := b.get(bad.url.String()); !strings.Contains(again.body, "The code is not valid.") ||
					len(srv.auditOf(storage.AuditFilter{Result: storage.ResultFailure})) != failures {
					t.Fatalf("reload of the wrong-code page: %d, or it counted a failure", again.status)
				}
				// The code is bound to this login: another login of the same
				// user (another browser) cannot use it.
				other := newBrowser(t, redirectURI)
				op := passwordStep(t, other, r.start())
				op = other.submit(op, nil)
				otherCode := emailedCode(t, smtp, &seen)
				if code != otherCode {
					if p := other.submit(op, map[string]string{"code": code}); !p.refused("The code is not valid.") {
						t.Fatalf("a code of another login answered %d after %d", p.status, p.from)
					}
				}
				q := r.callback(f, b.submit(bad, map[string]string{"code": code}))
				tk := r.mustExchange(f, q.Get("code"))
				if got := amrOf(tk.claims["amr"]); !slices.Equal(got, []string{"pwd", "email", "mfa"}) || tk.claims["acr"] != "2fa" {
					t.Fatalf("amr=%v acr=%v", got, tk.claims["acr"])
				}
				nt, err := r.conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tk.oauth.RefreshToken}).Token()
				if err != nil {
					t.Fatal(err)
				}
				rtk, _ := r.verify(nt, "")
				if !slices.Equal(amrOf(rtk.claims["amr"]), []string{"pwd", "email", "mfa"}) || rtk.claims["acr"] != "2fa" {
					t.Errorf("after refresh amr=%v acr=%v", rtk.claims["amr"], rtk.claims["acr"])
				}
				if in := r.introspect(nt.AccessToken); in["acr"] != "2fa" {
					t.Errorf("introspection acr = %v", in["acr"])
				}
				// The session now holds email: a new login in the same browser
				// needs nothing more.
				f = r.start()
				if q := r.callback(f, b.get(f.authURL)); q.Get("code") == "" {
					t.Errorf("SSO with email done: %v", q)
				}
			})

			var secret []byte
			var boundAt time.Time
			var backupCodes []string
			t.Run("binding an authenticator: email code, QR and manual key, confirmation, backup codes", func(t *testing.T) {
				srv.cli("", "client", "set-factors", r.conf.ClientID, "--otp=on", "--email=off")
				b := newBrowser(t, redirectURI)
				f := r.start()
				p := passwordStep(t, b, f)
				secret, p = bindTOTP(t, srv, b, smtp, &seen, p)
				boundAt = srv.clock.Now()
				for _, m := range backupCodeRe.FindAllStringSubmatch(p.body, -1) {
					backupCodes = append(backupCodes, m[1])
				}
				if len(backupCodes) != 10 {
					t.Fatalf("%d backup codes shown:\n%s", len(backupCodes), p.body)
				}
				if p.from != http.StatusSeeOther || p.url.Path != "/login/backup-codes" || p.header.Get("Cache-Control") != "no-store" {
					t.Fatalf("backup codes at %s after %d, Cache-Control %q", p.url, p.from, p.header.Get("Cache-Control"))
				}
				// A reload shows the same codes and logs nobody in.
				again := b.get(p.url.String())
				var reloaded []string
				for _, m := range backupCodeRe.FindAllStringSubmatch(again.body, -1) {
					reloaded = append(reloaded, m[1])
				}
				if again.status != http.StatusOK || !slices.Equal(reloaded, backupCodes) {
					t.Fatalf("reload of the backup codes page: %d, %d codes", again.status, len(reloaded))
				}
				// Going around the page does not finish the login either.
				if around := b.get(srv.issuer + "/login?authRequestID=" + url.QueryEscape(p.url.Query().Get("authRequestID"))); !strings.Contains(around.body, backupCodes[0]) {
					t.Fatalf("/login skipped the backup codes page: %d %s", around.status, around.url)
				}
				// Another browser does not see them.
				other := newBrowser(t, redirectURI)
				if o := other.get(p.url.String()); strings.Contains(o.body, backupCodes[0]) {
					t.Fatal("another browser was shown the codes")
				}
				// Nor can it confirm them away ("I have saved them" with its own
				// CSRF token and this login's request).
				saved := formFields(other.get(r.start().authURL))
				saved.Set("authRequestID", p.url.Query().Get("authRequestID"))
				other.post(srv.issuer+"/login/backup-codes/saved", saved)
				if still := b.get(p.url.String()); !strings.Contains(still.body, backupCodes[0]) {
					t.Fatal("another browser's confirmation removed the codes")
				}
				q := r.callback(f, b.submit(again, nil)) // "I have saved them"
				if after := b.get(p.url.String()); strings.Contains(after.body, backupCodes[0]) {
					t.Fatal("codes still shown after confirming")
				}
				tk := r.mustExchange(f, q.Get("code"))
				if got := amrOf(tk.claims["amr"]); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) || tk.claims["acr"] != "2fa" {
					t.Fatalf("amr=%v acr=%v", got, tk.claims["acr"])
				}
			})

			t.Run("TOTP login; a replayed code is refused; T-1 accepted, T-2 and T+2 refused", func(t *testing.T) {
				if secret == nil {
					t.Skip("binding failed")
				}
				login := func(code string) page {
					b := newBrowser(t, redirectURI)
					f := r.start()
					p := passwordStep(t, b, f)
					if !strings.Contains(p.body, "Code from your authenticator app") {
						t.Fatalf("expected the OTP form, got %d:\n%s", p.status, p.body)
					}
					return b.submit(p, map[string]string{"code": code})
				}
				ok := func(p page) bool { return p.status == http.StatusSeeOther || p.status == http.StatusFound }
				// The binding used its step; T-1 can only be accepted once
				// it is later than that, so wait for the step after next.
				srv.advanceToStep(mfa.TOTPStep(boundAt) + 2)
				now := srv.clock.Now()
				if p := login(mfa.TOTPCode(secret, now.Add(-60*time.Second))); ok(p) {
					t.Error("T-2 accepted")
				}
				if p := login(mfa.TOTPCode(secret, now.Add(60*time.Second))); ok(p) {
					t.Error("T+2 accepted")
				}
				if p := login(mfa.TOTPCode(secret, now.Add(-30*time.Second))); !ok(p) {
					t.Errorf("T-1 refused: %d", p.status)
				}
				code := mfa.TOTPCode(secret, now)
				if p := login(code); !ok(p) {
					t.Fatalf("current code refused: %d", p.status)
				}
				if p := login(code); ok(p) || !strings.Contains(p.body, "The code is not valid.") {
					t.Errorf("replayed code: %d", p.status)
				}
				srv.cli("", "user", "unlock", testEmail)
			})

			t.Run("a backup code completes the login once", func(t *testing.T) {
				if backupCodes == nil {
					t.Skip("binding failed")
				}
				b := newBrowser(t, redirectURI)
				f := r.start()
				p := passwordStep(t, b, f)
				p = b.get(p.url.String() + "&tab=backup_code")
				if !strings.Contains(p.body, "Backup code") {
					t.Fatalf("no backup code form:\n%s", p.body)
				}
				q := r.callback(f, b.submit(p, map[string]string{"code": strings.ToLower(backupCodes[0])}))
				tk := r.mustExchange(f, q.Get("code"))
				if got := amrOf(tk.claims["amr"]); !slices.Equal(got, []string{"pwd", "backup_code", "mfa"}) {
					t.Errorf("amr = %v", got)
				}
				b = newBrowser(t, redirectURI)
				f = r.start()
				p = passwordStep(t, b, f)
				p = b.get(p.url.String() + "&tab=backup_code")
				if again := b.submit(p, map[string]string{"code": backupCodes[0]}); !again.refused("The code is not valid.") {
					t.Errorf("used backup code answered %d after %d", again.status, again.from)
				}
			})
		})
	}
}
