package e2e

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/cli"
	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// Options say how Start runs the server. The zero value is a --dev server
// on a fresh SQLite database in a new temporary directory.
type Options struct {
	// Engine is the database to create a fresh one of (zero: SQLite).
	Engine Engine
	// Database, when set, is the database URL to use instead of a fresh
	// one of Engine (e.g. one from ProxiedPostgres).
	Database string
	// DataDir is --data-dir (default: a new temporary directory).
	DataDir string
	// IssuerPath is a path the issuer has, e.g. "/auth".
	IssuerPath string
	// Listen is the loopback address to listen on (default: a free port).
	Listen string
	// Issuer is --issuer (default: URL, http://<Listen><IssuerPath>); set
	// it to serve as an issuer the server is not reached at (https:// behind
	// a proxy).
	Issuer string
	// Production leaves out --dev; the test then passes what production
	// requires (--master-key-file, --smtp-url, --auto-migrate…) in Args.
	Production bool
	// Mail, when set, receives the server's mail (--smtp-url).
	Mail *Mailbox
	// Args are more configuration flags, given to serve and to every command
	// run through the server (CLI, RunCLI). Later flags win.
	Args []string
	// WrapStore, when set, wraps the store the server uses, e.g. with
	// storagetest.Failing.
	WrapStore func(storage.Store) storage.Store
	// Clock is the server's clock (default: a new clock.Fake), shared by
	// servers that stand for replicas of one deployment.
	Clock *clock.Fake
}

// Server is a real StepGate server run in process, as the binary runs it:
// cli.Run with "serve" and the configuration flags. It stops when the test
// ends.
type Server struct {
	// URL is where the server answers, with the issuer's path.
	URL string
	// Issuer is the issuer it was configured with; URL unless
	// Options.Issuer said otherwise.
	Issuer string
	// DataDir is its --data-dir.
	DataDir string
	// Clock is the server's clock, and the clock of every command run
	// through it: a test jumps it over a TOTP step or a period instead of
	// sleeping.
	Clock *clock.Fake
	// Mail is Options.Mail.
	Mail *Mailbox

	t        testing.TB
	opts     Options
	database string
	args     []string // configuration flags shared by serve and commands

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan int
	logs   *buffer
	stdout *buffer
	store  *sqlstore.Store
}

// Start starts a server and waits until /healthz answers. It fails the test
// if the server exits or does not answer within 30 s.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	if o.Database == "" {
		o.Database = o.Engine.Database(t, o.DataDir)
	}
	if o.Listen == "" {
		o.Listen = FreePort(t)
	}
	url := "http://" + o.Listen + o.IssuerPath
	if o.Issuer == "" {
		o.Issuer = url
	}
	if o.Clock == nil {
		o.Clock = &clock.Fake{}
	}
	args := []string{"--data-dir", o.DataDir, "--database", o.Database, "--listen", o.Listen,
		"--issuer", o.Issuer, "--log-level", "debug"}
	if !o.Production {
		args = append([]string{"--dev"}, args...)
	}
	if o.Mail != nil {
		args = append(args, "--smtp-url", o.Mail.URL())
	}
	s := &Server{URL: url, Issuer: o.Issuer, DataDir: o.DataDir, Clock: o.Clock, Mail: o.Mail,
		t: t, opts: o, database: o.Database, args: append(args, o.Args...)}
	t.Cleanup(s.Stop)
	s.start()
	return s
}

// Replica starts a second server on the same database, data directory and
// clock, at its own address: another replica behind a load balancer.
func (s *Server) Replica() *Server {
	s.t.Helper()
	o := s.opts
	o.Listen, o.Issuer = "", ""
	return Start(s.t, o)
}

func (s *Server) start() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel, s.done = cancel, make(chan int, 1)
	s.logs, s.stdout = &buffer{}, &buffer{}
	env := cli.Env{Stdout: s.stdout, Stderr: s.logs, Getenv: noEnv, WrapStore: s.opts.WrapStore, Now: s.Clock.Now}
	done := s.done
	s.mu.Unlock()
	go func() { done <- cli.Run(ctx, env, append([]string{"serve"}, s.args...)) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case code := <-done:
			s.mu.Lock()
			s.cancel = nil
			s.mu.Unlock()
			s.t.Fatalf("server exited with %d:\n%s", code, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server did not start:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond) // a poll for the server to listen, not a wait for time to pass
	}
}

// Stop stops the server (as SIGTERM does) and fails the test unless it
// exits with 0 within 30 s. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			s.t.Errorf("server exited with %d:\n%s", code, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Error("server did not shut down")
	}
}

// Restart stops the server and starts it again with the same configuration,
// database and clock. Logs and Stdout then hold what the new run wrote.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Logs is what the server wrote to its standard error in this run: its log.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stdout is what the server wrote to its standard output in this run (the
// issuer line; on a first --dev start the dev accounts).
func (s *Server) Stdout() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stdout.String()
}

// Database is the server's --database URL.
func (s *Server) Database() string { return s.database }

// Store is a store of its own on the server's database, for a test to look
// at (or arrange) what the server keeps. It is opened once and closed when
// the test ends.
func (s *Server) Store() *sqlstore.Store {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		st, err := sqlstore.Open(context.Background(), s.database)
		if err != nil {
			s.t.Fatal(err)
		}
		s.store = st
		s.t.Cleanup(func() { st.Close() })
	}
	return s.store
}

// Audit reads the audit trail the server wrote, newest first.
func (s *Server) Audit(f storage.AuditFilter) []storage.AuditEvent {
	s.t.Helper()
	evs, err := s.Store().ListAudit(context.Background(), f)
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

// ReadyWithin polls /readyz until it answers 200, for at most d; false if
// it never did.
func (s *Server) ReadyWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond) // a poll, as a load balancer's
	}
}

// DevOwner is the owner a first --dev start created, with the password it
// printed once.
func (s *Server) DevOwner() (email, password string) {
	s.t.Helper()
	for _, line := range strings.Split(s.Stdout(), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "owner:" && f[2] == "/" {
			return f[1], f[3]
		}
	}
	s.t.Fatalf("no dev owner in the server's output:\n%s", s.Stdout())
	return "", ""
}

// FreePort is a loopback address with a port nothing listened on a moment
// ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func noEnv(string) string { return "" }

// buffer is a bytes.Buffer safe for the server's goroutines to write.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
