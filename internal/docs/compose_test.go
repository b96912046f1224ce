package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stepgate/stepgate/internal/cli"
	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mail/mailtest"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// composeEnv is the stepgate service's environment in docker-compose.yml,
// with the Dockerfile's STEPGATE_DATA_DIR.
func composeEnv(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	env := f.Services["stepgate"].Environment
	if len(env) == 0 {
		t.Fatal("docker-compose.yml has no stepgate service with an environment")
	}
	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(df), "ENV STEPGATE_DATA_DIR=/data") {
		t.Fatal("the Dockerfile no longer sets STEPGATE_DATA_DIR=/data; update this test")
	}
	return env
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The compose file's StepGate, run with exactly its environment (the
// compose network's host names replaced by a PostgreSQL database of the
// test's own and an SMTP server standing in for Mailpit), answers on
// http://localhost:8080, prints the owner the README tells people to log in
// with, and that owner logs in to an application with an email code sent
// through the SMTP server.
func TestComposeGivesAWorkingLogin(t *testing.T) {
	dsn := os.Getenv(storagetest.PostgresEnv)
	if dsn == "" {
		t.Skip(storagetest.PostgresEnv + " is not set; compose runs StepGate on PostgreSQL")
	}
	if !portFree("8080") {
		t.Skip("port 8080 is in use on this machine; the compose issuer is http://localhost:8080")
	}
	env := composeEnv(t)
	mailbox := e2e.NewMailbox(t, mailtest.WithAnonymous()) // Mailpit takes mail without AUTH
	for k, v := range env {
		v = regexp.MustCompile(`postgres://[^ ]*@postgres:5432/stepgate\?sslmode=disable`).
			ReplaceAllLiteralString(v, storagetest.FreshPostgresSchema(t, dsn))
		env[k] = strings.Replace(v, "mailpit:1025", mailbox.Addr(), 1)
	}
	if strings.Contains(env["STEPGATE_DATABASE"], "@postgres:") || strings.Contains(env["STEPGATE_SMTP_URL"], "mailpit") {
		t.Fatalf("the compose environment changed shape; update this test: %v", env)
	}
	env["STEPGATE_DATA_DIR"] = t.TempDir()
	getenv := func(k string) string { return env[k] }

	ctx, cancel := context.WithCancel(context.Background())
	logs, done := &syncBuffer{}, make(chan int, 1)
	go func() { done <- cli.Run(ctx, cli.Env{Stdout: logs, Stderr: logs, Getenv: getenv}, []string{"serve"}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	issuer := "http://localhost:8080"
	srv := &e2e.Server{URL: issuer, Issuer: issuer, Clock: &clock.Fake{}}
	for deadline := time.Now().Add(60 * time.Second); !srv.ReadyWithin(100 * time.Millisecond); {
		select {
		case code := <-done:
			done <- code // for the cleanup
			t.Fatalf("serve exited with %d:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready:\n%s", logs.String())
		}
	}
	if d := discovery(t, issuer); d["issuer"] != issuer {
		t.Fatalf("issuer %v, want %s", d["issuer"], issuer)
	}
	m := regexp.MustCompile(`owner:\s+(\S+) / (\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("the first start printed no owner (README: docker compose logs stepgate):\n%s", logs.String())
	}
	owner, password := m[1], m[2]

	// An application, as an admin adds one with `docker compose exec`: the
	// same environment, another process.
	command := func(args ...string) string {
		var out, errs bytes.Buffer
		if code := cli.Run(context.Background(), cli.Env{Stdout: &out, Stderr: &errs, Getenv: getenv}, args); code != 0 {
			t.Fatalf("stepgate %v: exit %d: %s%s", args, code, out.String(), errs.String())
		}
		return out.String()
	}
	var c e2e.Client
	if err := json.Unmarshal([]byte(command("client", "create", "--name", "Compose app", "--redirect-uri", e2e.RedirectURI, "--json")), &c); err != nil {
		t.Fatal(err)
	}
	command("client", "set-factors", c.ClientID, "--email=on")

	rp := e2e.NewRP(t, srv, c)
	b := e2e.NewBrowser(t, e2e.RedirectURI)
	f := rp.Start()
	p := b.Get(f.AuthURL).Form(e2e.WithAction("/login/password")).Set("email", owner).Set("password", password).Submit()
	p = p.Form(e2e.WithButton("Send code")).Submit()
	p = p.Form(e2e.WithAction("/login/email")).Set("code", mailbox.Code(owner)).Submit()
	tk := rp.MustExchange(f, rp.Callback(f, p).Get("code"))
	if amr, _ := json.Marshal(tk.Claims["amr"]); tk.Claims["acr"] != "2fa" || !strings.Contains(string(amr), `"email"`) {
		t.Errorf("tokens with acr %v and amr %s, want 2fa with email", tk.Claims["acr"], amr)
	}
}
