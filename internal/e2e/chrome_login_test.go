package e2e_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/e2e"
)

// The login pages in a real Chromium: what a user sees and does, and what
// screen-reader, keyboard and low-vision users need of each page (accessible
// names, Tab order and visible focus, 4.5:1 text contrast in light and dark
// theme). STEPGATE_UPDATE_SCREENSHOTS=1 also writes the pages' screenshots
// to docs/screenshots.

func TestChromeUserBindsAuthenticatorAtFirstLogin(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			c := e2e.NewChrome(t, redirectURI)
			srv, r, mail := mfaSetup(t, eng)
			srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=on")
			f := r.Start()

			c.Open(f.AuthURL)
			if c.Title() != "Sign in to Test App – StepGate" {
				t.Fatalf("title %q", c.Title())
			}
			c.CheckAccessibility()
			c.SaveScreenshots("login")
			c.Fill("Email", testEmail)
			c.Fill("Password", testPassword)
			c.ClickAndWait("Continue")

			// The authenticator must be bound: first the mailbox is proved.
			c.WaitText("Set up an authenticator app")
			c.CheckAccessibility()
			c.ClickAndWait("Send code")
			c.CheckAccessibility() // with the code field and "Send a new code"
			c.Fill("Code from the email", mail.Code(testEmail))
			c.ClickAndWait("Continue")

			// The QR code, and the key behind "Having trouble scanning?".
			var shown bool
			if c.Eval(`document.querySelector("#manual-key").checkVisibility()`, &shown); shown {
				t.Fatal("the manual key shows before its summary is opened")
			}
			c.Click("Having trouble scanning?")
			c.WaitFor(`document.querySelector("details").open`)
			key := strings.ReplaceAll(c.TextOf("#manual-key"), " ", "")
			secret, err := base32NoPad.DecodeString(key)
			if err != nil || len(secret) != 20 {
				t.Fatalf("manual key %q: %v", key, err)
			}
			c.CheckAccessibility()
			c.SaveScreenshots("totp-setup")
			srv.AwayFromStepEdge()
			c.Fill("Then enter the 6-digit code the app shows", srv.TOTPCode(secret))
			c.ClickAndWait("Confirm")

			// The backup codes, then back to the application.
			codes := c.Texts("#backup-codes code")
			if len(codes) != 10 || !strings.Contains(c.Text(), "Save your backup codes") {
				t.Fatalf("backup codes page shows %d codes:\n%s", len(codes), c.Text())
			}
			if d := c.ClickDownload("Download as a text file"); d.Name != "stepgate-backup-codes.txt" || !strings.Contains(string(d.Data), codes[0]) {
				t.Errorf("downloaded %q: %q", d.Name, d.Data)
			}
			c.CheckAccessibility()
			c.SaveScreenshots("backup-codes")
			c.ClickAndWait("I have saved them — continue")

			q := r.CallbackAt(f, c.StoppedAt())
			if c.URL() != c.StoppedAt().String() {
				t.Errorf("the tab shows %s, not the callback %s", c.URL(), c.StoppedAt())
			}
			tk := r.MustExchange(f, q.Get("code"))
			if amr := amrOf(tk.Claims["amr"]); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) || tk.Claims["acr"] != "2fa" {
				t.Fatalf("amr=%v acr=%v", amr, tk.Claims["acr"])
			}
		})
	}
}

func TestChromeBoundUserSignsInByKeyboardAlone(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			c := e2e.NewChrome(t, redirectURI)
			srv, r, _ := mfaSetup(t, eng)
			srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=on")
			// Alice bound her authenticator earlier (another browser); now
			// the application offers email codes too.
			b := e2e.NewBrowser(t, redirectURI)
			first := r.Start()
			secret, p := bindTOTP(t, srv, b, testEmail, passwordStep(t, b, first))
			r.Callback(first, p.Form().Submit())
			srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on")
			srv.Advance(30 * time.Second) // her next code is of a later step

			f := r.Start()
			c.Open(f.AuthURL)
			// Focus starts in Email (autofocus); a wrong password first.
			if got := c.Focused(); got.Name != "Email" {
				t.Fatalf("focus starts on %v, want the Email field", got)
			}
			c.Type(testEmail)
			c.Tab()
			c.Type("not her password")
			c.PressAndWait("Enter")
			c.WaitText("The email or password is not correct.")
			c.CheckAccessibility() // the error message's colors too
			// The page keeps no email in its URL: both are typed again.
			if got := c.Focused(); got.Name != "Email" {
				t.Fatalf("after a wrong password focus is on %v, want the Email field", got)
			}
			c.Type(testEmail)
			c.Tab()
			c.Type(testPassword)
			c.TabTo("Continue")
			c.PressAndWait("Space")

			// The factor page: the authenticator tab, its code field focused.
			c.WaitText("Verify it's you")
			c.CheckAccessibility()
			c.SaveScreenshots("factor")
			if got := c.Focused(); got.Name != "Code from your authenticator app" {
				t.Fatalf("focus is on %v, want the code field", got)
			}
			// The other ways in, by keyboard too: the email tab, the backup
			// code form, and back.
			c.TabTo("Email code")
			c.PressAndWait("Enter")
			c.WaitText("We will email a 6-digit code")
			c.CheckAccessibility()
			c.TabTo("Use a backup code instead")
			c.PressAndWait("Enter")
			c.WaitText("Backup code")
			c.CheckAccessibility()
			c.TabTo("Authenticator app")
			c.PressAndWait("Enter")
			c.TabTo("Code from your authenticator app")
			srv.AwayFromStepEdge()
			c.Type(srv.TOTPCode(secret))
			c.PressAndWait("Enter")

			q := r.CallbackAt(f, c.StoppedAt())
			tk := r.MustExchange(f, q.Get("code"))
			if amr := amrOf(tk.Claims["amr"]); !slices.Equal(amr, []string{"pwd", "otp", "mfa"}) {
				t.Fatalf("amr=%v", amr)
			}
		})
	}
}

func TestChromeErrorAndSignedOutPages(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			c := e2e.NewChrome(t, redirectURI)
			srv := e2e.Start(t, e2e.Options{Engine: eng})

			// An unknown client gets an error page, never a redirect.
			c.Open(srv.URL + "/authorize?response_type=code&scope=openid&client_id=unknown&redirect_uri=" + url.QueryEscape(redirectURI))
			c.WaitText("unknown")
			if c.StoppedAt() != nil || c.Status() != 400 {
				t.Fatalf("answered %d, redirected to %v", c.Status(), c.StoppedAt())
			}
			c.CheckAccessibility()

			c.Open(srv.URL + "/logged-out")
			c.WaitText("You are signed out")
			if c.Status() != 200 {
				t.Errorf("signed-out page answered %d", c.Status())
			}
			c.CheckAccessibility()
		})
	}
}
