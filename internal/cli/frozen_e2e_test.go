package cli

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A database that stops answering (not refusing: silent) must never hang
// StepGate: every database-bound request is answered within 10 s, /readyz
// within its own 3 s. PostgreSQL is frozen by pausing a TCP proxy between
// StepGate and the server; SQLite by another connection holding BEGIN
// EXCLUSIVE (in WAL mode that stops writers; readers go on).
func TestFrozenDatabaseNeverHangsRequests(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		path := dir + "/stepgate.db"
		var lock *sql.Conn
		frozenScenario(t, "sqlite://"+path, dir, false,
			func() {
				db, err := sql.Open("sqlite", "file:"+path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if lock, err = db.Conn(context.Background()); err != nil {
					t.Fatal(err)
				}
				if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
					t.Fatal(err)
				}
			},
			func() {
				lock.ExecContext(context.Background(), "ROLLBACK")
				lock.Close()
			})
	})
	if dsn := os.Getenv("STEPGATE_TEST_POSTGRES_DSN"); dsn != "" {
		t.Run("postgres", func(t *testing.T) {
			dbURL, proxy, _ := proxiedPostgres(t, dsn)
			frozenScenario(t, dbURL, t.TempDir(), true, proxy.Pause, proxy.Resume)
		})
	}
}

// frozenScenario prepares a login in progress, an unredeemed code and
// issued tokens, freezes the database and sends every kind of
// database-bound request at once.
func frozenScenario(t *testing.T, database, dir string, readsFreeze bool, freeze, thaw func()) {
	srv := startServer(t, database, dir)
	srv.createUser(testEmail, testPassword, "--name", "Alice")
	c := srv.createClient("--name", "Test App", "--redirect-uri", redirectURI)
	r := newRP(t, srv, c)

	b := newBrowser(t, redirectURI)
	issued := r.mustExchange(func() (flow, string) { f := r.start(); return f, r.login(b, f, testEmail, testPassword) }())
	codeFlow := r.start()
	code := r.login(newBrowser(t, redirectURI), codeFlow, testEmail, testPassword)
	pending := r.start()
	pb := newBrowser(t, redirectURI)
	loginPage := pb.get(pending.authURL)
	if !strings.Contains(loginPage.body, `name="password"`) {
		t.Fatalf("no password page: %d %s", loginPage.status, loginPage.body)
	}
	form := url.Values{}
	for _, h := range hiddenField.FindAllStringSubmatch(loginPage.body, -1) {
		form.Set(h[1], unescapeHTML(h[2]))
	}
	form.Set("email", testEmail)
	form.Set("password", testPassword)
	passwordURL, _ := loginPage.url.Parse(unescapeHTML(formAction.FindStringSubmatch(loginPage.body)[1]))

	basic := func(req *http.Request) *http.Request {
		req.SetBasicAuth(url.QueryEscape(r.conf.ClientID), url.QueryEscape(r.conf.ClientSecret))
		return req
	}
	bearer := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+issued.oauth.AccessToken)
		return req
	}
	get := func(u string) *http.Request { req, _ := http.NewRequest("GET", u, nil); return req }
	requests := []struct {
		name  string
		req   *http.Request
		limit time.Duration
	}{
		{"authorize", get(r.start().authURL), 10 * time.Second},
		{"login page", get(loginPage.url.String()), 10 * time.Second},
		{"password POST", newFormRequest(t, passwordURL.String(), form), 10 * time.Second},
		{"token", basic(newFormRequest(t, r.provider.Endpoint().TokenURL, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"code_verifier": {codeFlow.verifier}})), 10 * time.Second},
		{"refresh", basic(newFormRequest(t, r.provider.Endpoint().TokenURL, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {issued.oauth.RefreshToken}})), 10 * time.Second},
		{"userinfo", bearer(get(r.provider.UserInfoEndpoint())), 10 * time.Second},
		{"introspect", basic(newFormRequest(t, srv.issuer+"/oauth/introspect", url.Values{"token": {issued.oauth.AccessToken}})), 10 * time.Second},
		{"readyz", get(srv.issuer + "/readyz"), 3500 * time.Millisecond},
	}
	// The login page and the password form need the browser's cookies.
	for _, ck := range pb.client.Jar.Cookies(loginPage.url) {
		requests[1].req.AddCookie(ck)
		requests[2].req.AddCookie(ck)
	}

	freeze()
	defer thaw()
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type result struct {
		status  int
		err     error
		elapsed time.Duration
	}
	results := make([]result, len(requests))
	var wg sync.WaitGroup
	for i, rq := range requests {
		wg.Go(func() {
			start := time.Now()
			resp, err := client.Do(rq.req)
			results[i] = result{err: err, elapsed: time.Since(start)}
			if err == nil {
				resp.Body.Close()
				results[i].status = resp.StatusCode
			}
		})
	}
	wg.Wait()
	for i, rq := range requests {
		res := results[i]
		t.Logf("%s: %d in %s", rq.name, res.status, res.elapsed.Round(time.Millisecond))
		switch {
		case res.err != nil:
			t.Errorf("%s: no answer: %v (after %s)", rq.name, res.err, res.elapsed)
		case res.elapsed > rq.limit:
			t.Errorf("%s answered after %s, want within %s", rq.name, res.elapsed, rq.limit)
		}
	}
	if readsFreeze && results[len(results)-1].status != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a frozen database = %d, want 503", results[len(results)-1].status)
	}

	// Thawed, the server recovers without a restart.
	thaw()
	if !srv.readyWithin(20 * time.Second) {
		t.Fatal("/readyz did not recover after the database thawed")
	}
}

// /readyz only reads: on a database whose tables were dropped under the
// running server it says 503 and creates nothing, not even schema_migrations.
func TestReadyzOnDroppedTablesCreatesNothing(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			dbURL := database(t, dir)
			srv := startServer(t, dbURL, dir)
			driver, dsn, tables := "postgres", dbURL,
				`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
			if name == "sqlite" {
				driver, dsn, tables = "sqlite", "file:"+dir+"/stepgate.db",
					`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			list := func() []string {
				rows, err := db.Query(tables)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var n string
					rows.Scan(&n)
					out = append(out, n)
				}
				return out
			}
			if name == "sqlite" {
				db.Exec(`PRAGMA foreign_keys = OFF`)
			}
			db.SetMaxOpenConns(1) // the PRAGMA holds for this one connection
			for _, tbl := range list() {
				cascade := " CASCADE"
				if name == "sqlite" {
					cascade = ""
				}
				if _, err := db.Exec(`DROP TABLE IF EXISTS ` + tbl + cascade); err != nil {
					t.Fatalf("drop %s: %v", tbl, err)
				}
			}
			for range 2 {
				resp, err := http.Get(srv.issuer + "/readyz")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("/readyz without tables = %d, want 503", resp.StatusCode)
				}
			}
			if left := list(); len(left) != 0 {
				t.Errorf("/readyz created %v", left)
			}
		})
	}
}
