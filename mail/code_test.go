package mail_test

import (
	"strings"
	"testing"
	"time"

	stepmail "github.com/stepgate/stepgate/mail"
)

func TestCodeMessageSaysOnlyTheCodeItsPurposeAndValidity(t *testing.T) {
	for _, tc := range []struct {
		purpose, subject, intro string
		validFor                time.Duration
		validity                string
	}{
		{stepmail.PurposeLogin, "Your sign-in code", "Use this code to sign in to StepGate:", 10 * time.Minute, "The code is valid for 10 minutes."},
		{stepmail.PurposeBindTOTP, "Confirm setting up an authenticator app", "Use this code to confirm setting up an authenticator app for StepGate:", time.Minute, "The code is valid for 1 minute."},
		{stepmail.PurposeLogin, "Your sign-in code", "sign in", 2 * time.Hour, "The code is valid for 2 hours."},
		{stepmail.PurposeLogin, "Your sign-in code", "sign in", 90 * time.Second, "The code is valid for 90 seconds."},
		{"something-new", "Your verification code", "Your verification code for StepGate:", 15 * time.Minute, "The code is valid for 15 minutes."},
	} {
		t.Run(tc.purpose+"/"+tc.validFor.String(), func(t *testing.T) {
			m := stepmail.CodeMessage("user@example.com", tc.purpose, "907153", tc.validFor, "StepGate")
			if m.To != "user@example.com" || m.Subject != tc.subject {
				t.Errorf("To %q, Subject %q", m.To, m.Subject)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{"907153", tc.intro, tc.validity} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
				}
				for _, never := range []string{"http", "<a", "href", "user@example.com"} {
					if strings.Contains(body, never) {
						t.Errorf("%s part contains %q:\n%s", part, never, body)
					}
				}
			}
		})
	}
}

func TestCodeMessageEscapesHTML(t *testing.T) {
	m := stepmail.CodeMessage("u@example.com", stepmail.PurposeLogin, "<123>", time.Minute, `Acme & <script>alert(1)</script>`)
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<123>") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "Acme &amp; &lt;script&gt;") || !strings.Contains(m.HTML, "&lt;123&gt;") {
		t.Errorf("HTML escaping unexpected:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, "Acme & <script>") {
		t.Errorf("text part should be verbatim:\n%s", m.Text)
	}
}

func TestCodeMessageWithoutValidityLeavesItOut(t *testing.T) {
	m := stepmail.CodeMessage("u@example.com", stepmail.PurposeLogin, "123456", 0, "StepGate")
	if strings.Contains(m.Text, "valid for") || strings.Contains(m.HTML, "valid for") {
		t.Errorf("validity shown:\n%s\n%s", m.Text, m.HTML)
	}
}
