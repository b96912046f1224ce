package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/internal/dbproxy"
	"github.com/stepgate/stepgate/storage"
)

// testServer is a real StepGate process-in-a-goroutine: started through
// run("serve", …) exactly as the binary is, on a free loopback port.
type testServer struct {
	t       *testing.T
	issuer  string
	args    []string // configuration flags shared by serve and CLI calls
	cancel  context.CancelFunc
	done    chan int
	logs    *syncBuffer
	dataDir string
	// wrap, when set, wraps the server's store (env.wrapStore).
	wrap func(storage.Store) storage.Store
	// stdout, when set, gets the server's standard output apart from logs.
	stdout io.Writer
	// clock is the server's clock (env.now): the real time until a test
	// advances it past a TOTP step or a period instead of sleeping.
	clock *clock.Fake
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

// engines lists the databases end-to-end tests run on: SQLite always,
// PostgreSQL when STEPGATE_TEST_POSTGRES_DSN is set.
func engines(t *testing.T) map[string]func(t *testing.T, dataDir string) string {
	m := map[string]func(t *testing.T, dataDir string) string{
		"sqlite": func(t *testing.T, dataDir string) string { return "sqlite://" + dataDir + "/stepgate.db" },
	}
	if dsn := os.Getenv("STEPGATE_TEST_POSTGRES_DSN"); dsn != "" {
		m["postgres"] = func(t *testing.T, _ string) string { return freshPostgresSchema(t, dsn) }
	}
	return m
}

// freshPostgresSchema creates a schema of its own for one test and returns
// a DSN whose search_path points at it.
func freshPostgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "e2e_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer starts StepGate in --dev mode on database.
func startServer(t *testing.T, database, dataDir string, extra ...string) *testServer {
	t.Helper()
	return startServerAt(t, "", database, dataDir, extra...)
}

// startServerAt starts StepGate with an issuer that has path (e.g. "/auth").
func startServerAt(t *testing.T, path, database, dataDir string, extra ...string) *testServer {
	t.Helper()
	addr := freePort(t)
	issuer := "http://" + addr + path
	s := &testServer{
		t: t, issuer: issuer, dataDir: dataDir, logs: &syncBuffer{}, done: make(chan int, 1),
		args: append([]string{"--dev", "--data-dir", dataDir, "--database", database, "--listen", addr,
			"--issuer", issuer, "--log-level", "debug"}, extra...),
	}
	s.start()
	return s
}

func (s *testServer) start() {
	t := s.t
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan int, 1)
	stdout := io.Writer(s.logs)
	if s.stdout != nil {
		stdout = s.stdout
	}
	if s.clock == nil {
		s.clock = &clock.Fake{}
	}
	// runEnv is what run calls, with the test's store wrapper and clock.
	e := env{stdin: strings.NewReader(""), stdout: stdout, stderr: s.logs, getenv: noEnv, wrapStore: s.wrap, now: s.clock.Now}
	go func() { s.done <- runEnv(ctx, e, append([]string{"serve"}, s.args...)) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.issuer + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case code := <-s.done:
			t.Fatalf("server exited with %d:\n%s", code, s.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(s.stop)
}

func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case code := <-s.done:
		if code != 0 {
			s.t.Errorf("server exited with %d:\n%s", code, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		s.t.Error("server did not shut down")
	}
	s.cancel = nil
}

func noEnv(string) string { return "" }

// cli runs a stepgate subcommand against the server's configuration and
// returns its standard output; it fails the test on a non-zero exit.
func (s *testServer) cli(stdin string, args ...string) string {
	s.t.Helper()
	out, code := s.cliCode(stdin, args...)
	if code != 0 {
		s.t.Fatalf("stepgate %v exited %d: %s", args, code, out)
	}
	return out
}

func (s *testServer) cliCode(stdin string, args ...string) (string, int) {
	var out bytes.Buffer
	all := append(append([]string{}, args...), s.args...)
	code := run(context.Background(), all, strings.NewReader(stdin), &out, &out, noEnv)
	return out.String(), code
}

type createdClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (s *testServer) createClient(args ...string) createdClient {
	s.t.Helper()
	out := s.cli("", append([]string{"client", "create", "--json"}, args...)...)
	var c createdClient
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &c); err != nil {
		s.t.Fatalf("client create output %q: %v", out, err)
	}
	return c
}

func (s *testServer) createUser(email, password string, args ...string) string {
	s.t.Helper()
	out := s.cli(password+"\n", append([]string{"user", "create", "--email", email, "--password-stdin", "--json"}, args...)...)
	var u struct{ ID string }
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &u); err != nil {
		s.t.Fatalf("user create output %q: %v", out, err)
	}
	return u.ID
}

// browser is a cookie-keeping HTTP client that stops at the relying
// party's redirect URI instead of following it.
type browser struct {
	t      *testing.T
	client *http.Client
	stopAt string
}

func newBrowser(t *testing.T, stopAt string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, stopAt: stopAt}
	b.client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), b.stopAt) {
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		}}
	return b
}

// page is a fetched response with its body read.
type page struct {
	status int
	url    *url.URL // final URL (the page's own)
	body   string
	header http.Header
	// from is the status of the redirect that led to this page (e.g. 303
	// after a form POST), or 0 when it was answered directly.
	from int
}

// redirect is the Location a stopped redirect pointed at, parsed.
func (p page) redirect() *url.URL {
	u, _ := url.Parse(p.header.Get("Location"))
	return u
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
	if resp.Request.Response != nil {
		p.from = resp.Request.Response.StatusCode
	}
	return p
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// submit fills the page's first form with its hidden fields plus values and
// posts it to the form's action.
func (b *browser) submit(p page, values map[string]string) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("no form on page %s (status %d):\n%s", p.url, p.status, p.body)
	}
	form := url.Values{}
	for _, h := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		form.Set(h[1], unescapeHTML(h[2]))
	}
	for k, v := range values {
		form.Set(k, v)
	}
	action, _ := p.url.Parse(unescapeHTML(m[1]))
	return b.post(action.String(), form)
}

// refused reports whether a form POST was answered the Post/Redirect/Get
// way (303 to a page) and that page shows msg.
func (p page) refused(msg string) bool {
	return p.from == http.StatusSeeOther && p.status == http.StatusOK && strings.Contains(p.body, msg)
}

func unescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&lt;", "<", "&gt;", ">", "&#39;", "'").Replace(s)
}

func newFormRequest(t *testing.T, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// readyWithin polls /readyz until it answers 200, for at most d; false if
// it never did (the server did not recover).
func (s *testServer) readyWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(s.issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// proxiedPostgres gives a fresh schema's DSN that reaches PostgreSQL
// through a dbproxy, so a test can freeze or stop the database under a
// running server; target is the real server's address.
func proxiedPostgres(t *testing.T, dsn string) (dbURL string, proxy *dbproxy.Proxy, target string) {
	t.Helper()
	u, err := url.Parse(freshPostgresSchema(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if proxy, err = dbproxy.Start(u.Host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	target, u.Host = u.Host, proxy.Addr()
	return u.String(), proxy, target
}
