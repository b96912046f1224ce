// Package mailtest runs a real SMTP server inside a test, so tests of code
// that sends mail can read what was sent (a one-time code, say) the way a
// user would: from a mailbox.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts, and the only ones: URL carries them,
// and a client that does not authenticate is refused at MAIL FROM.
const (
	Username = "user"
	Password = "pass"
)

// Server is an SMTP server on 127.0.0.1 that keeps every message it
// accepts. It stops when the test ends.
type Server struct {
	addr     string
	implicit bool
	roots    *x509.CertPool

	mu      sync.Mutex
	msgs    []Received
	taken   []bool        // taken[i]: msgs[i] was returned by WaitFor
	arrived chan struct{} // closed and replaced on each message
}

// Option changes how NewServer sets up the server.
type Option func(*config)

type config struct {
	starttls, implicit, anonymous bool
	listen                        string
}

// WithAnonymous accepts mail from clients that do not authenticate, as
// Mailpit does by default.
func WithAnonymous() Option { return func(c *config) { c.anonymous = true } }

// WithListenAddr listens on addr instead of 127.0.0.1:0, e.g. on
// 127.0.0.2:0 to test what a client does with a host that is not
// "localhost" or "127.0.0.1".
func WithListenAddr(addr string) Option { return func(c *config) { c.listen = addr } }

// WithSTARTTLS makes the server offer STARTTLS with a certificate for
// 127.0.0.1 that RootCAs trusts.
func WithSTARTTLS() Option { return func(c *config) { c.starttls = true } }

// WithImplicitTLS makes the server speak TLS from the first byte (smtps://)
// with a certificate for 127.0.0.1 that RootCAs trusts.
func WithImplicitTLS() Option { return func(c *config) { c.implicit = true } }

// NewServer starts a server on 127.0.0.1 on a free port. Without options it
// speaks plain SMTP, offers no STARTTLS and accepts AUTH PLAIN in clear.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{listen: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{implicit: cfg.implicit, arrived: make(chan struct{})}

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s, authed: cfg.anonymous}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // AUTH PLAIN without TLS: loopback only
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	if cfg.starttls || cfg.implicit {
		cert, roots, err := selfSigned(ln.Addr().(*net.TCPAddr).IP)
		if err != nil {
			ln.Close()
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.roots = roots
		tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if cfg.implicit {
			ln = tls.NewListener(ln, tc)
		} else {
			srv.TLSConfig = tc
		}
	}
	s.addr = ln.Addr().String()

	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		ln.Close() // in case Serve had not yet registered it with srv
		<-done
	})
	return s
}

// Addr is 127.0.0.1:PORT.
func (s *Server) Addr() string { return s.addr }

// URL is smtp://user:pass@127.0.0.1:PORT, or smtps://… for WithImplicitTLS.
// mail.ParseSMTPURL reads it; its default STARTTLS policy for 127.0.0.1
// (opportunistic) works with a plain server.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", User: url.UserPassword(Username, Password), Host: s.addr}
	if s.implicit {
		u.Scheme = "smtps"
	}
	return u.String()
}

// RootCAs trusts the server's certificate; nil for a plain server.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages is every message received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor returns the oldest message to the envelope recipient to (compared
// case-insensitively) that no earlier WaitFor returned, waiting up to
// timeout for it. Each message is returned once, so a test that asks for a
// code twice gets the second message the second time. It fails the test on
// timeout.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, m := range s.msgs {
			if !s.taken[i] && strings.EqualFold(m.To, to) {
				s.taken[i] = true
				s.mu.Unlock()
				return m
			}
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("mailtest: no message to %s within %s (%d received in all)", to, timeout, len(s.Messages()))
			return Received{}
		}
	}
}

func (s *Server) add(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	s.taken = append(s.taken, false)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP conversation.
type session struct {
	s      *Server
	authed bool
	from   string
	rcpts  []string
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != Username || password != Password {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.rcpts = append(se.rcpts, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := ParseMessage(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	m.From = se.from
	for _, to := range se.rcpts {
		m.To = to
		se.s.add(m)
	}
	return nil
}

func (se *session) Reset() { se.from, se.rcpts = "", nil }

func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for ip, 127.0.0.1, ::1 and localhost, and
// a pool that trusts it.
func selfSigned(ip net.IP) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{ip, net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
