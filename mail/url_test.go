package mail_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	stepmail "github.com/stepgate/stepgate/mail"
)

func TestParseSMTPURL(t *testing.T) {
	type want struct {
		host     string
		port     int
		user     string
		pass     string
		implicit bool
		starttls stepmail.StartTLS
		from     string
		timeout  time.Duration
	}
	for _, tc := range []struct {
		raw  string
		want want
	}{
		{"smtp://mail.example.com", want{host: "mail.example.com", port: 587, starttls: "mandatory"}},
		{"smtp://u:p@mail.example.com:25", want{host: "mail.example.com", port: 25, user: "u", pass: "p", starttls: "mandatory"}},
		{"smtps://u:p@mail.example.com", want{host: "mail.example.com", port: 465, user: "u", pass: "p", implicit: true}},
		{"smtps://mail.example.com:2465", want{host: "mail.example.com", port: 2465, implicit: true}},
		{"smtp://localhost:1025", want{host: "localhost", port: 1025, starttls: "opportunistic"}},
		{"smtp://127.0.0.1:1025", want{host: "127.0.0.1", port: 1025, starttls: "opportunistic"}},
		{"smtp://[::1]:1025", want{host: "::1", port: 1025, starttls: "opportunistic"}},
		{"smtp://10.0.0.5:25?starttls=none", want{host: "10.0.0.5", port: 25, starttls: "none"}},
		{"smtp://mail.example.com?starttls=opportunistic", want{host: "mail.example.com", port: 587, starttls: "opportunistic"}},
		{"smtp://localhost?starttls=mandatory", want{host: "localhost", port: 587, starttls: "mandatory"}},
		{"smtp://apikey:p%40ss%3Aw%2Ford@smtp.example.com/", want{host: "smtp.example.com", port: 587, user: "apikey", pass: "p@ss:w/ord", starttls: "mandatory"}},
		{"smtp://user@relay.example.com", want{host: "relay.example.com", port: 587, user: "user", starttls: "mandatory"}},
		{"smtp://mail.example.com?from=StepGate+%3Cno-reply%40example.com%3E&timeout=3s",
			want{host: "mail.example.com", port: 587, starttls: "mandatory", from: "StepGate <no-reply@example.com>", timeout: 3 * time.Second}},
		{"  smtp://mail.example.com  ", want{host: "mail.example.com", port: 587, starttls: "mandatory"}},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			c, err := stepmail.ParseSMTPURL(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			got := want{c.Host, c.Port, c.Username, c.Password, c.ImplicitTLS, c.StartTLS, c.From, c.Timeout}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseSMTPURLErrors(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"", "want smtp://host:port or smtps://host:port"},
		{"mail.example.com:25", "want smtp://host:port"},
		{"http://mail.example.com", `scheme "http" is not smtp or smtps`},
		{"smtp://", "no host"},
		{"smtp://:secret@mail.example.com", "password is given without a user name"},
		{"smtp://mail.example.com:0", `port "0"`},
		{"smtp://mail.example.com:70000", `port "70000"`},
		{"smtp://u:secret@mail.example.com:abc", "invalid port"},
		{"smtp://mail.example.com/inbox", `unexpected path "/inbox"`},
		{"smtp://mail.example.com#x", "fragment"},
		{"smtp://mail.example.com?starttls=yes", `STARTTLS policy "yes"`},
		{"smtps://mail.example.com?starttls=none", "starttls does not apply to smtps://"},
		{"smtp://mail.example.com?timeout=soon", `timeout "soon"`},
		{"smtp://mail.example.com?timeout=-1s", `timeout "-1s"`},
		{"smtp://mail.example.com?tls=1", `unknown parameter "tls"`},
		{"smtp://mail.example.com?from=a&from=b", "from given 2 times"},
		{"smtp://u:sec ret@mail.example.com", "SMTP URL"},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			_, err := stepmail.ParseSMTPURL(tc.raw)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "sec ret") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestSMTPConfigNeverPrintsThePassword(t *testing.T) {
	c, err := stepmail.ParseSMTPURL("smtp://mailer:hunter2-Secret@mail.example.com:587?from=a%40example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := "smtp://mailer:redacted@mail.example.com:587?from=a%40example.com&starttls=mandatory"; c.String() != want {
		t.Errorf("String() = %s, want %s", c, want)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("smtp", "config", c)
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(&c), logged.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
		if !strings.Contains(s, "mailer") {
			t.Errorf("user name missing: %s", s)
		}
	}
	// The redacted form still parses, so it can be shown as a config hint.
	back, err := stepmail.ParseSMTPURL(c.String())
	if err != nil || back.Host != c.Host || back.From != c.From || back.StartTLS != c.StartTLS {
		t.Errorf("String() does not parse back: %+v, %v", back, err)
	}
	if s := (stepmail.SMTPConfig{Host: "h", Port: 465, ImplicitTLS: true}).String(); s != "smtps://h:465" {
		t.Errorf("smtps String() = %s", s)
	}
}
