package mailtest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mail/mailtest"
)

// send uses the standard library client, independent of the sender under
// test elsewhere.
func send(srv *mailtest.Server, to, body string) error {
	auth := smtp.PlainAuth("", mailtest.Username, mailtest.Password, "127.0.0.1")
	return smtp.SendMail(srv.Addr(), auth, "from@example.com", []string{to}, []byte(body))
}

func TestWaitForReturnsEachMessageOnceInOrder(t *testing.T) {
	srv := mailtest.NewServer(t)
	for to, body := range map[string]string{
		"a@example.com": "Subject: first\r\n\r\ncode 1\r\n",
		"b@example.com": "Subject: other\r\n\r\nnot yours\r\n",
	} {
		if err := send(srv, to, body); err != nil {
			t.Fatal(err)
		}
	}
	late := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		late <- send(srv, "A@example.com", "Subject: second\r\n\r\ncode 2\r\n")
	}()
	defer func() {
		if err := <-late; err != nil {
			t.Error(err)
		}
	}()

	if r := srv.WaitFor(t, "a@example.com", 5*time.Second); r.Subject != "first" || r.Text != "code 1\n" || r.From != "from@example.com" {
		t.Errorf("first: %+v", r)
	}
	if r := srv.WaitFor(t, "a@example.com", 5*time.Second); r.Subject != "second" || r.To != "A@example.com" {
		t.Errorf("second: %+v", r)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("%d messages", n)
	}
}

func TestUnauthenticatedSenderIsRefused(t *testing.T) {
	srv := mailtest.NewServer(t)
	err := smtp.SendMail(srv.Addr(), nil, "from@example.com", []string{"a@example.com"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Fatalf("got %v", err)
	}
	auth := smtp.PlainAuth("", mailtest.Username, "wrong", "127.0.0.1")
	if err := smtp.SendMail(srv.Addr(), auth, "f@example.com", []string{"a@example.com"}, []byte("x")); err == nil {
		t.Fatal("wrong password accepted")
	}
}

func TestParseMessageDecodesNestedBase64AndEncodedSubject(t *testing.T) {
	raw := "From: =?utf-8?q?St=C3=A9p?= <s@example.com>\r\n" +
		"To: u@example.com\r\n" +
		"Subject: =?utf-8?q?Votre_code_=C3=A0_usage_unique?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=inner\r\n\r\n" +
		"--inner\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"Q29kZTog\r\nOTg3NjU0\r\n" +
		"--inner\r\n" +
		"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"<p class=3D\"c\">987654</p>\r\n" +
		"--inner--\r\n" +
		"--outer--\r\n"
	r, err := mailtest.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Votre code à usage unique" || r.From != "s@example.com" || r.To != "u@example.com" {
		t.Errorf("headers: %+v", r)
	}
	if r.Text != "Code: 987654" || r.HTML != `<p class="c">987654</p>` {
		t.Errorf("text %q html %q", r.Text, r.HTML)
	}
}
