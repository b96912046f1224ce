package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// StartTLS says whether an smtp:// connection must upgrade to TLS.
type StartTLS string

// STARTTLS policies.
const (
	// StartTLSMandatory refuses to send unless the server offers STARTTLS
	// and the handshake succeeds. The default for smtp:// to any host that
	// is not loopback.
	StartTLSMandatory StartTLS = "mandatory"
	// StartTLSOpportunistic upgrades when the server offers STARTTLS and
	// otherwise continues in clear. The default for smtp:// to loopback
	// (localhost, 127.0.0.0/8, ::1), where nobody sits on the wire: a local
	// relay or a test server.
	StartTLSOpportunistic StartTLS = "opportunistic"
	// StartTLSNone never upgrades.
	StartTLSNone StartTLS = "none"
)

// Default ports and timeout.
const (
	DefaultSMTPPort  = 587 // submission, with STARTTLS
	DefaultSMTPSPort = 465 // submissions, implicit TLS
	DefaultTimeout   = 10 * time.Second
)

// SMTPConfig says how to reach the mail server. Build it with ParseSMTPURL
// or by hand; NewSMTP checks it.
//
// Credentials are offered (AUTH PLAIN or LOGIN, whichever the server
// lists first in our preference) only over TLS or to localhost/127.0.0.1/::1:
// go-mail refuses to send them in clear to anything else, whatever the
// STARTTLS policy. Leave Username empty for an unauthenticated relay.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string // never printed: String, GoString and LogValue redact it
	// ImplicitTLS is TLS from the first byte (smtps://); StartTLS is then
	// not used.
	ImplicitTLS bool
	// StartTLS is the smtp:// upgrade policy; empty means the default:
	// mandatory, or opportunistic when Host is loopback.
	StartTLS StartTLS
	// From is the sender address, e.g. "StepGate <no-reply@example.com>".
	From string
	// Timeout bounds the dial and each SMTP command; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig, if set, replaces the default (system roots, TLS 1.2 or
	// later); its ServerName defaults to Host. Tests use it for a private CA.
	TLSConfig *tls.Config
}

// ParseSMTPURL reads
//
//	smtp://[user[:password]@]host[:port][?starttls=mandatory|opportunistic|none][&from=ADDR][&timeout=DURATION]
//	smtps://[user[:password]@]host[:port][?from=ADDR][&timeout=DURATION]
//
// smtp:// defaults to port 587 and STARTTLS mandatory (opportunistic for a
// loopback host); smtps:// defaults to port 465 with TLS from the first byte.
// Special characters in the user or password must be percent-encoded.
// Errors never contain the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// *url.Error quotes the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c, fmt.Errorf("mail: SMTP URL: %w", err)
	}
	switch u.Scheme {
	case "smtp":
		c.Port = DefaultSMTPPort
	case "smtps":
		c.Port, c.ImplicitTLS = DefaultSMTPSPort, true
	case "":
		return c, errors.New("mail: SMTP URL: want smtp://host:port or smtps://host:port")
	default:
		return c, fmt.Errorf("mail: SMTP URL: scheme %q is not smtp or smtps (want smtp://host:port or smtps://host:port)", u.Scheme)
	}
	if u.Opaque != "" {
		return c, errors.New("mail: SMTP URL: want smtp://host:port or smtps://host:port")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, errors.New("mail: SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("mail: SMTP URL: port %q is not a number from 1 to 65535", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" {
			return c, errors.New("mail: SMTP URL: a password is given without a user name")
		}
	}
	if u.Path != "" && u.Path != "/" {
		return c, fmt.Errorf("mail: SMTP URL: unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return c, errors.New("mail: SMTP URL: unexpected #fragment")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return c, fmt.Errorf("mail: SMTP URL: query: %w", err)
	}
	for k, v := range q {
		if len(v) != 1 {
			return c, fmt.Errorf("mail: SMTP URL: %s given %d times", k, len(v))
		}
		switch val := v[0]; k {
		case "starttls":
			if c.ImplicitTLS {
				return c, errors.New("mail: SMTP URL: starttls does not apply to smtps://, which is TLS from the first byte")
			}
			c.StartTLS = StartTLS(val)
		case "from":
			c.From = val
		case "timeout":
			d, err := time.ParseDuration(val)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("mail: SMTP URL: timeout %q is not a positive duration such as 10s", val)
			}
			c.Timeout = d
		default:
			return c, fmt.Errorf("mail: SMTP URL: unknown parameter %q (known: starttls, from, timeout)", k)
		}
	}
	if c.ImplicitTLS {
		return c, nil
	}
	if c.StartTLS == "" {
		c.StartTLS = defaultStartTLS(c.Host)
	}
	return c, c.checkStartTLS()
}

// defaultStartTLS is mandatory except on loopback, where the traffic never
// leaves the machine.
func defaultStartTLS(host string) StartTLS {
	if isLoopback(host) {
		return StartTLSOpportunistic
	}
	return StartTLSMandatory
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (c SMTPConfig) checkStartTLS() error {
	switch c.StartTLS {
	case StartTLSMandatory, StartTLSOpportunistic, StartTLSNone:
		return nil
	}
	return fmt.Errorf("mail: STARTTLS policy %q is not mandatory, opportunistic or none", string(c.StartTLS))
}

// check reports a configuration NewSMTP cannot use.
func (c SMTPConfig) check() error {
	if c.Host == "" {
		return errors.New("mail: SMTP host is not set")
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("mail: SMTP port %d is not from 1 to 65535", c.Port)
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("mail: SMTP password is set without a user name")
	}
	if c.From == "" {
		return errors.New("mail: the From address is not set")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("mail: From address %q: %w", c.From, err)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("mail: SMTP timeout %s is negative", c.Timeout)
	}
	if c.StartTLS != "" { // empty is the default
		return c.checkStartTLS()
	}
	return nil
}

// Addr is host:port.
func (c SMTPConfig) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// String is the configuration as a URL, password redacted.
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: c.Addr()}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "redacted")
		} else {
			u.User = url.User(c.Username)
		}
	}
	q := url.Values{}
	if !c.ImplicitTLS && c.StartTLS != "" {
		q.Set("starttls", string(c.StartTLS))
	}
	if c.From != "" {
		q.Set("from", c.From)
	}
	if c.Timeout != 0 {
		q.Set("timeout", c.Timeout.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// GoString keeps %#v from printing the password.
func (c SMTPConfig) GoString() string { return "mail.SMTPConfig(" + c.String() + ")" }

// LogValue keeps slog from printing the password.
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// SMTP sends messages through a mail server. It opens one connection per
// message, so it is safe for concurrent use and holds nothing between sends.
type SMTP struct {
	cfg SMTPConfig
}

// NewSMTP checks cfg and returns a sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if !cfg.ImplicitTLS && cfg.StartTLS == "" {
		cfg.StartTLS = defaultStartTLS(cfg.Host)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &SMTP{cfg: cfg}, nil
}

// Config is the sender's configuration with defaults applied.
func (s *SMTP) Config() SMTPConfig { return s.cfg }

// Send delivers m. ctx bounds the dial; each later SMTP command is bounded
// by the configured Timeout.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	msg, err := m.build(s.cfg.From, time.Now())
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options()...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client for %s: %w", s.cfg.Addr(), err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return s.explain(err)
	}
	return nil
}

func (s *SMTP) options() []gomail.Option {
	c := s.cfg
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
		if tc.MinVersion == 0 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	if tc.ServerName == "" {
		tc.ServerName = c.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(c.Port),
		gomail.WithTimeout(c.Timeout),
		gomail.WithTLSConfig(tc),
	}
	if c.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(map[StartTLS]gomail.TLSPolicy{
			StartTLSMandatory:     gomail.TLSMandatory,
			StartTLSOpportunistic: gomail.TLSOpportunistic,
			StartTLSNone:          gomail.NoTLS,
		}[c.StartTLS]))
	}
	if c.Username != "" {
		// PLAIN and LOGIN cover nearly every server; go-mail sends them
		// only over TLS or to localhost. If the server offers neither,
		// go-mail picks the strongest mechanism it lists.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(c.Username),
			gomail.WithPassword(c.Password))
	}
	return opts
}

// explain wraps a go-mail error with where it happened and, for the usual
// misconfiguration, what to change.
func (s *SMTP) explain(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not support STARTTLS"):
		return fmt.Errorf("mail: %s does not offer STARTTLS and the policy is starttls=mandatory "+
			"(use smtps:// if the server speaks TLS from the first byte; "+
			"starttls=opportunistic or none sends in clear): %w", s.cfg.Addr(), err)
	case errors.Is(err, gosmtp.ErrUnencrypted):
		return fmt.Errorf("mail: refusing to send the SMTP password to %s without TLS "+
			"(enable STARTTLS or use smtps://): %w", s.cfg.Addr(), err)
	}
	return fmt.Errorf("mail: sending via %s: %w", s.cfg.Addr(), err)
}
