package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Received is one message as a recipient sees it.
type Received struct {
	From    string      // envelope sender (MAIL FROM); the header is in Header
	To      string      // envelope recipient; a message to several gives one Received each
	Subject string      // decoded
	Text    string      // the decoded text/plain part, line ends as "\n"
	HTML    string      // the decoded text/html part, line ends as "\n"
	Header  mail.Header // the top-level header, as sent
	Raw     []byte      // the message as received
}

// ParseMessage reads an RFC 5322 message (as received, or an .eml file):
// the subject, and the first text/plain and text/html parts, decoded, from a
// single-part or (nested) multipart body. From and To come from the header
// (the addresses only); the server replaces them with the envelope's.
func ParseMessage(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("mailtest: %w", err)
	}
	r := Received{Header: msg.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if r.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("mailtest: Subject: %w", err)
	}
	if a, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		r.From = a.Address
	}
	if a, err := mail.ParseAddress(msg.Header.Get("To")); err == nil {
		r.To = a.Address
	}
	err = walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, &r)
	return r, err
}

// walk visits one body part, descending into multiparts.
func walk(contentType, encoding string, body io.Reader, r *Received) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("mailtest: Content-Type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mailtest: %s: %w", mt, err)
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, r); err != nil {
				return err
			}
		}
	}
	var dst *string
	switch {
	case mt == "text/plain" && r.Text == "":
		dst = &r.Text
	case mt == "text/html" && r.HTML == "":
		dst = &r.HTML
	default:
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("mailtest: unknown Content-Transfer-Encoding %q", encoding)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("mailtest: %s body: %w", mt, err)
	}
	*dst = strings.ReplaceAll(string(b), "\r\n", "\n")
	return nil
}
