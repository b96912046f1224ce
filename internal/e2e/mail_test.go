package e2e

import (
	"net/smtp"
	"testing"

	"github.com/stepgate/stepgate/mail/mailtest"
)

func send(t *testing.T, m *Mailbox, to, body string) {
	t.Helper()
	auth := smtp.PlainAuth("", mailtest.Username, mailtest.Password, "127.0.0.1")
	if err := smtp.SendMail(m.Addr(), auth, "from@example.com", []string{to}, []byte(body)); err != nil {
		t.Fatal(err)
	}
}

// A user who asked for two codes opens the newest; the next read waits for
// a message newer than that one; other people's mail is not theirs.
func TestTheMailboxGivesTheNewestMessageToAnAddress(t *testing.T) {
	m := NewMailbox(t)
	send(t, m, "a@example.com", "Subject: one\r\n\r\nYour code is 111111.\r\n")
	send(t, m, "a@example.com", "Subject: two\r\n\r\nYour code is 222222.\r\n")
	send(t, m, "b@example.com", "Subject: other\r\n\r\nYour code is 999999.\r\n")
	if got := m.Code("A@example.com"); got != "222222" {
		t.Errorf("first read: %s, want the newest code 222222", got)
	}
	send(t, m, "a@example.com", "Subject: three\r\n\r\nYour code is 333333.\r\n")
	if got := m.Newest("a@example.com"); got.Subject != "three" {
		t.Errorf("second read: %q, want the message sent after the first read", got.Subject)
	}
	if got := m.Code("b@example.com"); got != "999999" {
		t.Errorf("b's code %s", got)
	}
	if n := len(m.To("a@example.com")); n != 3 {
		t.Errorf("%d messages to a", n)
	}
	if _, ok := CodeIn(mailtest.Received{Text: "no code, only 12345 and 1234567"}); ok {
		t.Error("found a code in a text without six digits")
	}
}
