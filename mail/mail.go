package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. Text is required; HTML, when set,
// is sent as the alternative part of a multipart/alternative message.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers a Message. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Outbox)(nil)
)

// build turns m into a go-mail message from the given address, dated now.
// Addresses are validated here, so a malformed recipient fails before any
// connection is made.
func (m Message) build(from string, now time.Time) (*gomail.Msg, error) {
	if m.Text == "" {
		return nil, errors.New("mail: message has no text body")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	sender, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid From address %q: %w", from, err)
	}
	msg.FromMailAddress(sender)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: invalid recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	// go-mail would put the machine's host name in the Message-ID; the
	// sender's domain says nothing about our infrastructure.
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("mail: Message-ID: %w", err)
	}
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + sender.Address[strings.LastIndexByte(sender.Address, '@')+1:])
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
