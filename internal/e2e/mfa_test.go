package e2e_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"image"
	_ "image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// bindTOTP walks the binding pages from the setup page as the user email:
// emailed code, QR and manual key, confirmation. It returns the secret read
// from the manual key (checked against the QR code) and the page after
// confirming.
func bindTOTP(t *testing.T, srv *e2e.Server, b *e2e.Browser, email string, p *e2e.Page) ([]byte, *e2e.Page) {
	t.Helper()
	if !strings.Contains(p.Body, "Set up an authenticator app") {
		t.Fatalf("expected the setup page, got %d %s:\n%s", p.Status, p.URL, p.Body)
	}
	p = p.Form(e2e.WithButton("Send code")).Submit()
	p = p.Form(e2e.WithAction("/login/totp/verify-email")).Set("code", srv.Mail.Code(email)).Submit()
	manual, ok := p.ByID("manual-key")
	if !ok {
		t.Fatalf("no manual key on the scan page:\n%s", p.Body)
	}
	key := strings.ReplaceAll(manual.Text(), " ", "")
	secret, err := base32NoPad.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	// The QR code encodes the same otpauth URI.
	var src string
	for _, img := range p.All("img") {
		if strings.HasPrefix(img.Attr("alt"), "QR code") {
			src = img.Attr("src")
		}
	}
	data, ok := strings.CutPrefix(src, "data:image/png;base64,")
	if !ok {
		t.Fatalf("no QR code image (src %.40q)", src)
	}
	png, _ := base64.StdEncoding.DecodeString(data)
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	// PURE_BARCODE: the image is a generated symbol, not a photo. gozxing's
	// photo detector misjudges about 1 in 200 of these symbols' geometry
	// ("dimension = 31") although they are valid; read as pure barcodes,
	// 2,000 of 2,000 random otpauth URIs decode.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	uri, _ := url.Parse(res.GetText())
	if uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Query().Get("secret") != key ||
		!strings.Contains(uri.Path, "@") || uri.Query().Get("issuer") != "StepGate" {
		t.Fatalf("QR URI %q does not match the manual key %s", res.GetText(), key)
	}
	srv.AwayFromStepEdge()
	p = p.Form(e2e.WithAction("/login/totp/confirm")).Set("code", srv.TOTPCode(secret)).Submit()
	return secret, p
}

// shownBackupCodes are the codes a backup codes page shows.
func shownBackupCodes(p *e2e.Page) []string {
	var codes []string
	if list, ok := p.ByID("backup-codes"); ok {
		for _, c := range list.All("code") {
			codes = append(codes, c.Text())
		}
	}
	return codes
}

func TestSecondFactors(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, mail := mfaSetup(t, eng)

			t.Run("email code completes the login with pwd, email, mfa", func(t *testing.T) {
				srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on", "--otp=off")
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := passwordStep(t, b, f)
				if !strings.Contains(p.Body, "We will email a 6-digit code") {
					t.Fatalf("expected the email tab, got %d:\n%s", p.Status, p.Body)
				}
				p = p.Form(e2e.WithButton("Send code")).Submit()
				code := mail.Code(testEmail)
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				bad := b.Submit(p, map[string]string{"code": wrong})
				if !bad.Refused("The code is not valid.") {
					t.Fatalf("wrong code answered %d after %d", bad.Status, bad.From)
				}
				// A reload of the wrong-code page shows it again and counts
				// no other failure.
				failures := len(srv.Audit(storage.AuditFilter{Result: storage.ResultFailure}))
				if again := b.Get(bad.URL.String()); !strings.Contains(again.Body, "The code is not valid.") ||
					len(srv.Audit(storage.AuditFilter{Result: storage.ResultFailure})) != failures {
					t.Fatalf("reload of the wrong-code page: %d, or it counted a failure", again.Status)
				}
				// The code is bound to this login: another login of the same
				// user (another browser) cannot use it.
				other := e2e.NewBrowser(t, redirectURI)
				op := passwordStep(t, other, r.Start())
				op = op.Form(e2e.WithButton("Send code")).Submit()
				otherCode := mail.Code(testEmail)
				if code != otherCode {
					if p := other.Submit(op, map[string]string{"code": code}); !p.Refused("The code is not valid.") {
						t.Fatalf("a code of another login answered %d after %d", p.Status, p.From)
					}
				}
				q := r.Callback(f, b.Submit(bad, map[string]string{"code": code}))
				tk := r.MustExchange(f, q.Get("code"))
				if got := amrOf(tk.Claims["amr"]); !slices.Equal(got, []string{"pwd", "email", "mfa"}) || tk.Claims["acr"] != "2fa" {
					t.Fatalf("amr=%v acr=%v", got, tk.Claims["acr"])
				}
				nt, err := r.Config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken}).Token()
				if err != nil {
					t.Fatal(err)
				}
				rtk, _ := r.Verify(nt, "")
				if !slices.Equal(amrOf(rtk.Claims["amr"]), []string{"pwd", "email", "mfa"}) || rtk.Claims["acr"] != "2fa" {
					t.Errorf("after refresh amr=%v acr=%v", rtk.Claims["amr"], rtk.Claims["acr"])
				}
				if in := r.Introspect(nt.AccessToken); in["acr"] != "2fa" {
					t.Errorf("introspection acr = %v", in["acr"])
				}
				// The session now holds email: a new login in the same browser
				// needs nothing more.
				f = r.Start()
				if q := r.Callback(f, b.Get(f.AuthURL)); q.Get("code") == "" {
					t.Errorf("SSO with email done: %v", q)
				}
			})

			var secret []byte
			var boundAt time.Time
			var backupCodes []string
			t.Run("binding an authenticator: email code, QR and manual key, confirmation, backup codes", func(t *testing.T) {
				srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=on", "--email=off")
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := passwordStep(t, b, f)
				secret, p = bindTOTP(t, srv, b, testEmail, p)
				boundAt = srv.Clock.Now()
				backupCodes = shownBackupCodes(p)
				if len(backupCodes) != 10 {
					t.Fatalf("%d backup codes shown:\n%s", len(backupCodes), p.Body)
				}
				if p.From != http.StatusSeeOther || p.URL.Path != "/login/backup-codes" || p.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("backup codes at %s after %d, Cache-Control %q", p.URL, p.From, p.Header.Get("Cache-Control"))
				}
				// A reload shows the same codes and logs nobody in.
				again := b.Get(p.URL.String())
				reloaded := shownBackupCodes(again)
				if again.Status != http.StatusOK || !slices.Equal(reloaded, backupCodes) {
					t.Fatalf("reload of the backup codes page: %d, %d codes", again.Status, len(reloaded))
				}
				// Going around the page does not finish the login either.
				if around := b.Get(srv.URL + "/login?authRequestID=" + url.QueryEscape(p.URL.Query().Get("authRequestID"))); !strings.Contains(around.Body, backupCodes[0]) {
					t.Fatalf("/login skipped the backup codes page: %d %s", around.Status, around.URL)
				}
				// Another browser does not see them.
				other := e2e.NewBrowser(t, redirectURI)
				if o := other.Get(p.URL.String()); strings.Contains(o.Body, backupCodes[0]) {
					t.Fatal("another browser was shown the codes")
				}
				// Nor can it confirm them away ("I have saved them" with its own
				// CSRF token and this login's request).
				saved := formFields(other.Get(r.Start().AuthURL))
				saved.Set("authRequestID", p.URL.Query().Get("authRequestID"))
				other.Post(srv.URL+"/login/backup-codes/saved", saved)
				if still := b.Get(p.URL.String()); !strings.Contains(still.Body, backupCodes[0]) {
					t.Fatal("another browser's confirmation removed the codes")
				}
				q := r.Callback(f, again.Form(e2e.WithButton("I have saved them — continue")).Submit())
				if after := b.Get(p.URL.String()); strings.Contains(after.Body, backupCodes[0]) {
					t.Fatal("codes still shown after confirming")
				}
				tk := r.MustExchange(f, q.Get("code"))
				if got := amrOf(tk.Claims["amr"]); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) || tk.Claims["acr"] != "2fa" {
					t.Fatalf("amr=%v acr=%v", got, tk.Claims["acr"])
				}
			})

			t.Run("TOTP login; a replayed code is refused; T-1 accepted, T-2 and T+2 refused", func(t *testing.T) {
				if secret == nil {
					t.Skip("binding failed")
				}
				login := func(code string) *e2e.Page {
					b := e2e.NewBrowser(t, redirectURI)
					f := r.Start()
					p := passwordStep(t, b, f)
					if !strings.Contains(p.Body, "Code from your authenticator app") {
						t.Fatalf("expected the OTP form, got %d:\n%s", p.Status, p.Body)
					}
					return b.Submit(p, map[string]string{"code": code})
				}
				ok := func(p *e2e.Page) bool { return p.Status == http.StatusSeeOther || p.Status == http.StatusFound }
				// The binding used its step; T-1 can only be accepted once
				// it is later than that, so wait for the step after next.
				srv.AdvanceToStep(mfa.TOTPStep(boundAt) + 2)
				now := srv.Clock.Now()
				if p := login(mfa.TOTPCode(secret, now.Add(-60*time.Second))); ok(p) {
					t.Error("T-2 accepted")
				}
				if p := login(mfa.TOTPCode(secret, now.Add(60*time.Second))); ok(p) {
					t.Error("T+2 accepted")
				}
				if p := login(mfa.TOTPCode(secret, now.Add(-30*time.Second))); !ok(p) {
					t.Errorf("T-1 refused: %d", p.Status)
				}
				code := mfa.TOTPCode(secret, now)
				if p := login(code); !ok(p) {
					t.Fatalf("current code refused: %d", p.Status)
				}
				if p := login(code); ok(p) || !strings.Contains(p.Body, "The code is not valid.") {
					t.Errorf("replayed code: %d", p.Status)
				}
				srv.CLI("user", "unlock", testEmail)
			})

			t.Run("a backup code completes the login once", func(t *testing.T) {
				if backupCodes == nil {
					t.Skip("binding failed")
				}
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				p := passwordStep(t, b, f)
				p = b.Get(p.URL.String() + "&tab=backup_code")
				if !strings.Contains(p.Body, "Backup code") {
					t.Fatalf("no backup code form:\n%s", p.Body)
				}
				q := r.Callback(f, b.Submit(p, map[string]string{"code": strings.ToLower(backupCodes[0])}))
				tk := r.MustExchange(f, q.Get("code"))
				if got := amrOf(tk.Claims["amr"]); !slices.Equal(got, []string{"pwd", "backup_code", "mfa"}) {
					t.Errorf("amr = %v", got)
				}
				b = e2e.NewBrowser(t, redirectURI)
				f = r.Start()
				p = passwordStep(t, b, f)
				p = b.Get(p.URL.String() + "&tab=backup_code")
				if again := b.Submit(p, map[string]string{"code": backupCodes[0]}); !again.Refused("The code is not valid.") {
					t.Errorf("used backup code answered %d after %d", again.Status, again.From)
				}
			})
		})
	}
}
