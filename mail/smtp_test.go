package mail_test

import (
	"context"
	"crypto/tls"
	"mime"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	stepmail "github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/mail/mailtest"
)

const from = "StepGate <no-reply@stepgate.test>"

// sender builds an SMTP sender for srv, letting edit adjust the parsed URL.
func sender(t *testing.T, srv *mailtest.Server, edit func(*stepmail.SMTPConfig)) *stepmail.SMTP {
	t.Helper()
	cfg, err := stepmail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.From = from
	cfg.Timeout = 5 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	s, err := stepmail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPDeliversCodeByAuthenticatedSubmission(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := sender(t, srv, nil)

	m := stepmail.CodeMessage("Alice@Example.com", stepmail.PurposeLogin, "482913", 10*time.Minute, "StepGate")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.WaitFor(t, "alice@example.com", 5*time.Second)

	if r.To != "Alice@Example.com" {
		t.Errorf("envelope recipient %q", r.To)
	}
	if r.From != "no-reply@stepgate.test" {
		t.Errorf("envelope sender %q", r.From)
	}
	hf, err := mail.ParseAddress(r.Header.Get("From"))
	if err != nil || hf.Address != "no-reply@stepgate.test" || hf.Name != "StepGate" {
		t.Errorf("From header %q (%v)", r.Header.Get("From"), err)
	}
	if ht, err := mail.ParseAddress(r.Header.Get("To")); err != nil || ht.Address != "Alice@Example.com" {
		t.Errorf("To header %q (%v)", r.Header.Get("To"), err)
	}
	if r.Subject != "Your sign-in code" {
		t.Errorf("subject %q", r.Subject)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/alternative" {
		t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	}
	if !strings.Contains(r.Text, "482913") || !strings.Contains(r.HTML, "482913") {
		t.Errorf("code missing from a part:\ntext: %s\nhtml: %s", r.Text, r.HTML)
	}
	if r.Header.Get("Date") == "" || r.Header.Get("Message-Id") == "" {
		t.Errorf("Date %q, Message-ID %q", r.Header.Get("Date"), r.Header.Get("Message-Id"))
	}
	if ua := r.Header.Get("User-Agent") + r.Header.Get("X-Mailer"); ua != "" {
		t.Errorf("mailer advertised: %q", ua)
	}
}

func TestStartTLSMandatoryRefusesServerWithoutTLS(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := sender(t, srv, func(c *stepmail.SMTPConfig) { c.StartTLS = stepmail.StartTLSMandatory })

	err := s.Send(context.Background(), stepmail.CodeMessage("bob@example.com", stepmail.PurposeLogin, "111111", time.Minute, "StepGate"))
	if err == nil {
		t.Fatal("sent in clear despite starttls=mandatory")
	}
	for _, want := range []string{"does not offer STARTTLS", "starttls=mandatory", srv.Addr()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestStartTLSMandatoryUpgradesAndVerifiesTheCertificate(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS())
	msg := stepmail.CodeMessage("carol@example.com", stepmail.PurposeBindTOTP, "222222", 5*time.Minute, "StepGate")

	untrusted := sender(t, srv, func(c *stepmail.SMTPConfig) { c.StartTLS = stepmail.StartTLSMandatory })
	if err := untrusted.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed certificate accepted without being trusted: %v", err)
	}

	trusted := sender(t, srv, func(c *stepmail.SMTPConfig) {
		c.StartTLS = stepmail.StartTLSMandatory
		c.TLSConfig = &tls.Config{RootCAs: srv.RootCAs()}
	})
	if err := trusted.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r := srv.WaitFor(t, "carol@example.com", 5*time.Second)
	if r.Subject != "Confirm setting up an authenticator app" || !strings.Contains(r.Text, "222222") {
		t.Errorf("got %q / %q", r.Subject, r.Text)
	}
}

func TestImplicitTLS(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithImplicitTLS())
	if !strings.HasPrefix(srv.URL(), "smtps://") {
		t.Fatalf("URL %s", srv.URL())
	}
	s := sender(t, srv, func(c *stepmail.SMTPConfig) { c.TLSConfig = &tls.Config{RootCAs: srv.RootCAs()} })
	if err := s.Send(context.Background(), stepmail.CodeMessage("dan@example.com", stepmail.PurposeLogin, "333333", time.Minute, "StepGate")); err != nil {
		t.Fatal(err)
	}
	if r := srv.WaitFor(t, "dan@example.com", 5*time.Second); !strings.Contains(r.HTML, "333333") {
		t.Errorf("html %q", r.HTML)
	}
}

func TestWrongPasswordFailsWithoutRevealingIt(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := sender(t, srv, func(c *stepmail.SMTPConfig) { c.Password = "not-the-Password-42" })

	err := s.Send(context.Background(), stepmail.CodeMessage("erin@example.com", stepmail.PurposeLogin, "444444", time.Minute, "StepGate"))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), "not-the-Password-42") {
		t.Errorf("error reveals the password: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestPasswordIsNotSentInClearToAnotherHost(t *testing.T) {
	// 127.0.0.2 is loopback on Linux but is neither "localhost" nor
	// "127.0.0.1", which is all go-mail exempts from its TLS check: it
	// stands in for a remote host reached without TLS.
	if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
		t.Skipf("127.0.0.2 is not usable here: %v", err)
	} else {
		ln.Close()
	}
	srv := mailtest.NewServer(t, mailtest.WithListenAddr("127.0.0.2:0"))
	s := sender(t, srv, func(c *stepmail.SMTPConfig) { c.StartTLS = stepmail.StartTLSNone })

	err := s.Send(context.Background(), stepmail.CodeMessage("frank@example.com", stepmail.PurposeLogin, "555555", time.Minute, "StepGate"))
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("want a refusal to send the password in clear, got %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}

func TestSendRejectsABadRecipientBeforeConnecting(t *testing.T) {
	srv := mailtest.NewServer(t)
	s := sender(t, srv, nil)
	err := s.Send(context.Background(), stepmail.Message{To: "not an address\r\nBcc: x@evil.test", Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "invalid recipient") {
		t.Fatalf("got %v", err)
	}
}

func TestNewSMTPChecksTheConfiguration(t *testing.T) {
	good := stepmail.SMTPConfig{Host: "mail.example.com", Port: 587, From: from}
	for name, tc := range map[string]struct {
		edit func(*stepmail.SMTPConfig)
		want string
	}{
		"no host":          {func(c *stepmail.SMTPConfig) { c.Host = "" }, "host is not set"},
		"bad port":         {func(c *stepmail.SMTPConfig) { c.Port = 0 }, "port 0"},
		"no From":          {func(c *stepmail.SMTPConfig) { c.From = "" }, "From address is not set"},
		"bad From":         {func(c *stepmail.SMTPConfig) { c.From = "nobody" }, "From address"},
		"password no user": {func(c *stepmail.SMTPConfig) { c.Password = "x" }, "without a user name"},
		"bad policy":       {func(c *stepmail.SMTPConfig) { c.StartTLS = "sometimes" }, `"sometimes"`},
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if _, err := stepmail.NewSMTP(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}

	s, err := stepmail.NewSMTP(good)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config(); c.StartTLS != stepmail.StartTLSMandatory || c.Timeout != stepmail.DefaultTimeout {
		t.Errorf("defaults not applied: %v", c)
	}
	local, _ := stepmail.NewSMTP(stepmail.SMTPConfig{Host: "localhost", Port: 25, From: from})
	if c := local.Config(); c.StartTLS != stepmail.StartTLSOpportunistic {
		t.Errorf("loopback default %q", c.StartTLS)
	}
}
