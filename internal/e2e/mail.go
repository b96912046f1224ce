package e2e

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mail/mailtest"
)

// MailWait is how long Mailbox waits for a message before failing the test.
const MailWait = 10 * time.Second

// Mailbox is a real SMTP server (mail/mailtest) a server sends its mail to
// (Options.Mail), read the way a user reads their inbox: the newest message
// to an address, and the code in it. It stops when the test ends.
type Mailbox struct {
	*mailtest.Server

	t    testing.TB
	mu   sync.Mutex
	read map[string]int // lower-cased address → how many of its messages Newest has passed
}

// NewMailbox starts an SMTP server on a free loopback port.
func NewMailbox(t testing.TB, opts ...mailtest.Option) *Mailbox {
	t.Helper()
	return &Mailbox{Server: mailtest.NewServer(t, opts...), t: t, read: map[string]int{}}
}

// To is every message to the address received so far, oldest first.
func (m *Mailbox) To(addr string) []mailtest.Received {
	var out []mailtest.Received
	for _, r := range m.Messages() {
		if strings.EqualFold(r.To, addr) {
			out = append(out, r)
		}
	}
	return out
}

// Newest waits for a message to the address that arrived after the ones
// Newest (or Code) returned before, and returns the newest there is: what a
// user who was just sent a code opens. It fails the test if none arrives
// within MailWait.
func (m *Mailbox) Newest(addr string) mailtest.Received {
	m.t.Helper()
	key := strings.ToLower(addr)
	deadline := time.Now().Add(MailWait)
	for {
		msgs := m.To(addr)
		m.mu.Lock()
		read := m.read[key]
		if len(msgs) > read {
			m.read[key] = len(msgs)
			m.mu.Unlock()
			return msgs[len(msgs)-1]
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			m.t.Fatalf("no new message to %s within %s (%d to it, %d in all)", addr, MailWait, read, len(m.Messages()))
		}
		time.Sleep(10 * time.Millisecond) // a poll for the server's send, not a wait for time to pass
	}
}

// Code waits for the newest message to the address as Newest does and
// returns the one-time code in it. It fails the test if it has none.
func (m *Mailbox) Code(addr string) string {
	m.t.Helper()
	msg := m.Newest(addr)
	code, ok := CodeIn(msg)
	if !ok {
		m.t.Fatalf("no code in the message to %s: %q", addr, msg.Text)
	}
	return code
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// CodeIn is the 6-digit code in a message's text.
func CodeIn(msg mailtest.Received) (string, bool) {
	m := sixDigits.FindStringSubmatch(msg.Text)
	if m == nil {
		return "", false
	}
	return m[1], true
}
