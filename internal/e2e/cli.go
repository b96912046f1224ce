package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/stepgate/stepgate/internal/cli"
)

// Result is what one stepgate command did.
type Result struct {
	// Code is the exit code: 0 ok, 1 failure, 2 usage error.
	Code int
	// Stdout and Stderr are what it wrote to each.
	Stdout, Stderr string
	// Output is both, in the order they were written, as a terminal shows
	// them.
	Output string
}

// RunCLI runs one stepgate command line (without the program name) in
// process, with stdin as its standard input, no environment variables and
// the real clock. A serve it starts runs until ctx ends.
func RunCLI(ctx context.Context, stdin string, args ...string) Result {
	return run(ctx, stdin, nil, args)
}

func run(ctx context.Context, stdin string, now func() time.Time, args []string) Result {
	var out, errs bytes.Buffer
	var both buffer // stdout and stderr in the order written
	code := cli.Run(ctx, cli.Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: io.MultiWriter(&out, &both),
		Stderr: io.MultiWriter(&errs, &both),
		Getenv: noEnv,
		Now:    now,
	}, args)
	return Result{Code: code, Stdout: out.String(), Stderr: errs.String(), Output: both.String()}
}

// RunCLI runs a stepgate command against the server's configuration: args,
// then the server's configuration flags (--database, --data-dir, --dev…),
// on the server's clock.
func (s *Server) RunCLI(stdin string, args ...string) Result {
	all := append(append([]string{}, args...), s.args...)
	return run(context.Background(), stdin, s.Clock.Now, all)
}

// CLI runs a command as RunCLI does with no input and returns its standard
// output. It fails the test unless the command exits with 0.
func (s *Server) CLI(args ...string) string {
	s.t.Helper()
	r := s.RunCLI("", args...)
	if r.Code != 0 {
		s.t.Fatalf("stepgate %s exited %d:\n%s", strings.Join(args, " "), r.Code, r.Output)
	}
	return r.Stdout
}

// Client is a client application as client create --json shows it once.
type Client struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// CreateClient registers a client with client create and the flags given
// (--name, --redirect-uri, --public…).
func (s *Server) CreateClient(args ...string) Client {
	s.t.Helper()
	out := s.CLI(append([]string{"client", "create", "--json"}, args...)...)
	var c Client
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" {
		s.t.Fatalf("client create --json printed %q: %v", out, err)
	}
	return c
}

// CreateUser creates a user with user create, the password on standard
// input and the flags given (--name, --role…), and returns its ID.
func (s *Server) CreateUser(email, password string, args ...string) string {
	s.t.Helper()
	r := s.RunCLI(password+"\n", append([]string{"user", "create", "--email", email, "--password-stdin", "--json"}, args...)...)
	if r.Code != 0 {
		s.t.Fatalf("user create %s exited %d:\n%s", email, r.Code, r.Output)
	}
	var u struct{ ID string }
	if err := json.Unmarshal([]byte(r.Stdout), &u); err != nil || u.ID == "" {
		s.t.Fatalf("user create --json printed %q: %v", r.Stdout, err)
	}
	return u.ID
}
