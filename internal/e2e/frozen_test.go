package e2e_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/e2e"
)

// A database that stops answering (not refusing: silent) must never hang
// StepGate: every database-bound request is answered within 10 s, /readyz
// within its own 3 s. PostgreSQL is frozen by pausing a TCP proxy between
// StepGate and the server; SQLite by another connection holding BEGIN
// EXCLUSIVE (in WAL mode that stops writers; readers go on).
func TestFrozenDatabaseNeverHangsRequests(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel() // each engine waits out its timeouts; they need not wait in turn
		dir := t.TempDir()
		path := dir + "/stepgate.db"
		var lock *sql.Conn
		frozenScenario(t, e2e.Options{DataDir: dir}, false,
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
	if dsn := e2e.PostgresDSN(); dsn != "" {
		t.Run("postgres", func(t *testing.T) {
			t.Parallel()
			dbURL, proxy, _ := e2e.ProxiedPostgres(t, dsn)
			frozenScenario(t, e2e.Options{Database: dbURL}, true, proxy.Pause, proxy.Resume)
		})
	}
}

// frozenScenario prepares a login in progress, an unredeemed code and
// issued tokens, freezes the database and sends every kind of
// database-bound request at once.
func frozenScenario(t *testing.T, o e2e.Options, readsFreeze bool, freeze, thaw func()) {
	srv := e2e.Start(t, o)
	srv.CreateUser(testEmail, testPassword, "--name", "Alice")
	c := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
	r := e2e.NewRP(t, srv, c)

	b := e2e.NewBrowser(t, redirectURI)
	issued := r.MustExchange(func() (e2e.Flow, string) { f := r.Start(); return f, r.Login(b, f, testEmail, testPassword) }())
	codeFlow := r.Start()
	code := r.Login(e2e.NewBrowser(t, redirectURI), codeFlow, testEmail, testPassword)
	pending := r.Start()
	pb := e2e.NewBrowser(t, redirectURI)
	loginPage := pb.Get(pending.AuthURL)
	password := loginPage.Form(e2e.WithAction("/login/password")).Set("email", testEmail).Set("password", testPassword)

	basic := r.SetBasicAuth
	bearer := func(req *http.Request) *http.Request {
		req.Header.Set("Authorization", "Bearer "+issued.OAuth.AccessToken)
		return req
	}
	get := func(u string) *http.Request { req, _ := http.NewRequest("GET", u, nil); return req }
	requests := []struct {
		name  string
		req   *http.Request
		limit time.Duration
	}{
		{"authorize", get(r.Start().AuthURL), 10 * time.Second},
		{"login page", get(loginPage.URL.String()), 10 * time.Second},
		{"password POST", e2e.NewFormRequest(t, password.Action.String(), password.Values()), 10 * time.Second},
		{"token", basic(e2e.NewFormRequest(t, r.Provider.Endpoint().TokenURL, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
			"code_verifier": {codeFlow.Verifier}})), 10 * time.Second},
		{"refresh", basic(e2e.NewFormRequest(t, r.Provider.Endpoint().TokenURL, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {issued.OAuth.RefreshToken}})), 10 * time.Second},
		{"userinfo", bearer(get(r.Provider.UserInfoEndpoint())), 10 * time.Second},
		{"introspect", basic(e2e.NewFormRequest(t, srv.URL+"/oauth/introspect", url.Values{"token": {issued.OAuth.AccessToken}})), 10 * time.Second},
		{"readyz", get(srv.URL + "/readyz"), 3500 * time.Millisecond},
	}
	// The login page and the password form need the browser's cookies.
	for _, ck := range pb.Client.Jar.Cookies(loginPage.URL) {
		requests[1].req.AddCookie(ck)
		requests[2].req.AddCookie(ck)
	}

	freeze()
	defer thaw()
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type result struct {
		Status  int
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
				results[i].Status = resp.StatusCode
			}
		})
	}
	wg.Wait()
	for i, rq := range requests {
		res := results[i]
		t.Logf("%s: %d in %s", rq.name, res.Status, res.elapsed.Round(time.Millisecond))
		switch {
		case res.err != nil:
			t.Errorf("%s: no answer: %v (after %s)", rq.name, res.err, res.elapsed)
		case res.elapsed > rq.limit:
			t.Errorf("%s answered after %s, want within %s", rq.name, res.elapsed, rq.limit)
		}
	}
	if readsFreeze && results[len(results)-1].Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a frozen database = %d, want 503", results[len(results)-1].Status)
	}

	// Thawed, the server recovers without a restart.
	thaw()
	if !srv.ReadyWithin(20 * time.Second) {
		t.Fatal("/readyz did not recover after the database thawed")
	}
}

// /readyz only reads: on a database whose tables were dropped under the
// running server it says 503 and creates nothing, not even schema_migrations.
func TestReadyzOnDroppedTablesCreatesNothing(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			srv := e2e.Start(t, e2e.Options{Engine: eng})
			driver, dsn, tables := "postgres", srv.Database(),
				`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
			if !eng.Postgres() {
				driver, dsn, tables = "sqlite", "file:"+srv.DataDir+"/stepgate.db",
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
			if !eng.Postgres() {
				db.Exec(`PRAGMA foreign_keys = OFF`)
			}
			db.SetMaxOpenConns(1) // the PRAGMA holds for this one connection
			for _, tbl := range list() {
				cascade := " CASCADE"
				if !eng.Postgres() {
					cascade = ""
				}
				if _, err := db.Exec(`DROP TABLE IF EXISTS ` + tbl + cascade); err != nil {
					t.Fatalf("drop %s: %v", tbl, err)
				}
			}
			for range 2 {
				resp, err := http.Get(srv.URL + "/readyz")
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
