package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

// outageLeaks are what no answer given during an outage may contain: SQL
// and driver text, source positions, the library's error dump (compared
// in lower case).
var outageLeaks = []string{"sql", "pq:", "sqlite", "relation", ".go:", "errortype="}

// With the database stopped (connections closed, new ones refused), valid
// credentials are not answered as the client's fault: no invalid_grant, no
// invalid_token, no {"active":false}, no "Invalid sign-in request" page,
// no "id_token_hint invalid" — a 503 (server_error/temporarily_unavailable
// for OAuth, a page with Retry-After for a browser), within 10 s, without
// the driver's words. Once the database is back, the same code, refresh
// token, access token, password form and sign-out request work: nothing
// was thrown away.
//
// Only PostgreSQL runs it: a stopped PostgreSQL is a TCP proxy between
// StepGate and the server that closes every connection and refuses new ones.
// SQLite has no faithful equivalent: the server holds the database file
// open, so removing it or taking its permissions away leaves the open
// descriptors working and queries keep succeeding (Unix unlink semantics:
// tried, with stepgate.db, -wal and -shm chmod 0 and removed, /userinfo,
// /authorize and /readyz all went on answering 200);
// a locked file is a frozen database, not a stopped one (see
// TestFrozenDatabaseNeverHangsRequests), and storage.ErrUnavailable on
// SQLite is covered by TestStoreFailuresNeverReachClients.
func TestDatabaseOutageIsTheServersFault(t *testing.T) {
	dsn := e2e.PostgresDSN()
	if dsn == "" {
		t.Skip("needs PostgreSQL (STEPGATE_TEST_POSTGRES_DSN); see the comment for why SQLite cannot be stopped faithfully")
	}
	dbURL, proxy, target := e2e.ProxiedPostgres(t, dsn)
	srv := e2e.Start(t, e2e.Options{Database: dbURL})
	srv.CreateUser(testEmail, testPassword, "--name", "Alice")
	r := e2e.NewRP(t, srv, srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI,
		"--post-logout-redirect-uri", logoutURI))

	// While the database works: a valid code, left unredeemed…
	fCode := r.Start()
	code := r.Login(e2e.NewBrowser(t, redirectURI), fCode, testEmail, testPassword)
	// …tokens from a second login, whose browser keeps its SSO session…
	sso := e2e.NewBrowser(t, redirectURI)
	fTok := r.Start()
	tk := r.MustExchange(fTok, r.Login(sso, fTok, testEmail, testPassword))
	idToken, _ := tk.OAuth.Extra("id_token").(string)
	if tk.OAuth.RefreshToken == "" || idToken == "" {
		t.Fatalf("second login gave no refresh or ID token: %+v", tk.OAuth)
	}
	// …and a login waiting at its password page.
	pending := e2e.NewBrowser(t, redirectURI)
	loginPage := pending.Get(r.Start().AuthURL)
	if !strings.Contains(loginPage.URL.RawQuery, "authRequestID=") {
		t.Fatalf("no password page with an authRequestID: %d %s\n%s", loginPage.Status, loginPage.URL, loginPage.Body)
	}
	form := loginPage.Form(e2e.WithAction("/login/password")).Set("email", testEmail).Set("password", testPassword)
	password, passwordURL := form.Values(), form.Action

	proxy.Stop()

	// Answers are taken as they come: no redirect is followed, so a
	// redirect to the login page or to the client is seen as such.
	noFollow := func(jar http.CookieJar) *http.Client {
		return &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	// checked runs one request and checks what every answer owes: in time,
	// nothing of the driver in it.
	checked := func(t *testing.T, name string, do func() (answer, error)) answer {
		t.Helper()
		start := time.Now()
		a, err := do()
		elapsed := time.Since(start)
		t.Logf("%s: %d in %s", name, a.Status, elapsed.Round(time.Millisecond))
		if err != nil && a.Status == 0 {
			t.Errorf("%s: no answer after %s: %v", name, elapsed, err)
			return a
		}
		if elapsed > 10*time.Second {
			t.Errorf("%s: answered after %s, want within 10 s", name, elapsed)
		}
		lower := strings.ToLower(a.Body)
		for _, leak := range outageLeaks {
			if strings.Contains(lower, leak) {
				t.Errorf("%s: body contains %q: %d\n%s", name, leak, a.Status, a.Body)
			}
		}
		return a
	}
	send := func(c *http.Client, req *http.Request) (answer, error) {
		resp, err := c.Do(req)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}, nil
	}
	get := func(u string) *http.Request { req, _ := http.NewRequest("GET", u, nil); return req }
	basic := r.SetBasicAuth
	unavailablePage := func(t *testing.T, name string, a answer) {
		t.Helper()
		if a.Status != http.StatusServiceUnavailable || a.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %d (Retry-After %q), want 503 with Retry-After\n%s", name, a.Status, a.Header.Get("Retry-After"), a.Body)
		}
		if !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q, want a page", name, a.Header.Get("Content-Type"))
		}
		if strings.Contains(a.Body, "Invalid sign-in request") {
			t.Errorf("%s: says the sign-in request is invalid", name)
		}
	}
	// serverFault checks an OAuth JSON answer says the server failed.
	serverFault := func(t *testing.T, name string, status int, header http.Header, code string) {
		t.Helper()
		if code != "temporarily_unavailable" && code != "server_error" {
			t.Errorf("%s: error %q (status %d), want temporarily_unavailable or server_error", name, code, status)
		}
		if status != http.StatusServiceUnavailable && status != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 503 (or 500)", name, status)
		}
		if status == http.StatusServiceUnavailable && header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", name)
		}
	}
	oauthCtx := context.WithValue(context.Background(), oauth2.HTTPClient, noFollow(nil))

	t.Run("userinfo with a valid access token", func(t *testing.T) {
		req := get(r.Provider.UserInfoEndpoint())
		req.Header.Set("Authorization", "Bearer "+tk.OAuth.AccessToken)
		a := checked(t, "userinfo", func() (answer, error) { return send(noFollow(nil), req) })
		if a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden {
			t.Errorf("userinfo: %d, the token is valid\n%s", a.Status, a.Body)
		}
		if a.Status != http.StatusServiceUnavailable && a.Status != http.StatusInternalServerError {
			t.Errorf("userinfo: %d, want 503 (or 500)\n%s", a.Status, a.Body)
		}
		if ch := a.Header.Get("WWW-Authenticate"); strings.Contains(ch, "invalid_token") {
			t.Errorf("userinfo: the outage answer challenges a valid token: %s", ch)
		}
		if strings.Contains(strings.ToLower(a.Body), "invalid") {
			t.Errorf("userinfo: body says invalid: %s", a.Body)
		}
	})

	// x/oauth2 is how a client redeems and refreshes; its RetrieveError
	// carries what the server said.
	oauthError := func(t *testing.T, name string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s succeeded with the database stopped", name)
			return
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, not an answer from the token endpoint", name, err)
			return
		}
		if re.ErrorCode == "invalid_grant" {
			t.Errorf("%s: invalid_grant for a valid grant: %s", name, re.Body)
		}
		serverFault(t, name, re.Response.StatusCode, re.Response.Header, re.ErrorCode)
	}
	t.Run("token exchange of a valid code", func(t *testing.T) {
		var err error
		checked(t, "token exchange", func() (answer, error) {
			_, err = r.Config.Exchange(oauthCtx, code, oauth2.VerifierOption(fCode.Verifier))
			return retrieved(err), err
		})
		oauthError(t, "token exchange", err)
	})
	t.Run("refresh with a valid refresh token", func(t *testing.T) {
		var err error
		checked(t, "refresh", func() (answer, error) {
			_, err = r.Config.TokenSource(oauthCtx, &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken,
				Expiry: time.Now().Add(-time.Hour)}).Token()
			return retrieved(err), err
		})
		oauthError(t, "refresh", err)
	})

	t.Run("introspection of a valid access token", func(t *testing.T) {
		a := checked(t, "introspect", func() (answer, error) {
			return send(noFollow(nil), basic(e2e.NewFormRequest(t, srv.URL+"/oauth/introspect",
				url.Values{"token": {tk.OAuth.AccessToken}})))
		})
		if a.Status == http.StatusUnauthorized {
			t.Errorf("introspect: 401 for a valid client\n%s", a.Body)
		}
		var out struct {
			Active *bool  `json:"active"`
			Error  string `json:"error"`
		}
		json.Unmarshal([]byte(a.Body), &out)
		if out.Active != nil && !*out.Active {
			t.Errorf(`introspect: {"active":false} for a valid token: %s`, a.Body)
		}
		serverFault(t, "introspect", a.Status, a.Header, out.Error)
	})

	t.Run("authorize with a valid client and redirect URI", func(t *testing.T) {
		for _, who := range []struct {
			name string
			jar  http.CookieJar
		}{{"new browser", nil}, {"browser with an SSO session", sso.Client.Jar}} {
			name := "authorize (" + who.name + ")"
			a := checked(t, name, func() (answer, error) { return send(noFollow(who.jar), get(r.Start().AuthURL)) })
			unavailablePage(t, name, a)
		}
	})

	t.Run("end_session with a valid id_token_hint", func(t *testing.T) {
		u := srv.URL + "/end_session?" + url.Values{"id_token_hint": {idToken},
			"post_logout_redirect_uri": {logoutURI}, "state": {"bye"}}.Encode()
		a := checked(t, "end_session", func() (answer, error) { return send(noFollow(sso.Client.Jar), get(u)) })
		if a.Status < 500 {
			t.Errorf("end_session: %d, want a 5xx page\n%s", a.Status, a.Body)
		}
		if !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") {
			t.Errorf("end_session: Content-Type %q, want a page", a.Header.Get("Content-Type"))
		}
		if strings.Contains(strings.ToLower(a.Body), "id_token_hint") {
			t.Errorf("end_session: blames the id_token_hint: %s", a.Body)
		}
		if a.Status == http.StatusServiceUnavailable && a.Header.Get("Retry-After") == "" {
			t.Errorf("end_session: 503 without Retry-After")
		}
	})

	t.Run("login page and password POST", func(t *testing.T) {
		a := checked(t, "login page", func() (answer, error) { return send(noFollow(pending.Client.Jar), get(loginPage.URL.String())) })
		unavailablePage(t, "login page", a)
		a = checked(t, "password POST", func() (answer, error) {
			return send(noFollow(pending.Client.Jar), e2e.NewFormRequest(t, passwordURL.String(), password))
		})
		unavailablePage(t, "password POST", a)
	})

	t.Run("readyz", func(t *testing.T) {
		a := checked(t, "readyz", func() (answer, error) { return send(noFollow(nil), get(srv.URL+"/readyz")) })
		if a.Status != http.StatusServiceUnavailable {
			t.Errorf("/readyz: %d, want 503", a.Status)
		}
	})

	// The operator gets the detail the clients did not.
	if !strings.Contains(srv.Logs(), "connection refused") {
		t.Errorf("the log does not say why the database failed")
	}

	// The database comes back at the same address: StepGate reconnects by
	// itself and every credential it answered for during the outage works.
	forward(t, proxy.Addr(), target)
	if !srv.ReadyWithin(20 * time.Second) {
		t.Fatal("/readyz did not recover once the database was back")
	}
	if _, err := r.Exchange(fCode, code); err != nil {
		t.Errorf("the code did not survive the outage: %v", err)
	}
	if _, err := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tk.OAuth.RefreshToken,
		Expiry: time.Now().Add(-time.Hour)}).Token(); err != nil {
		t.Errorf("the refresh token did not survive the outage: %v", err)
	}
	req := get(r.Provider.UserInfoEndpoint())
	req.Header.Set("Authorization", "Bearer "+tk.OAuth.AccessToken)
	if a, err := send(http.DefaultClient, req); err != nil || a.Status != http.StatusOK {
		t.Errorf("userinfo after the outage: %d %v %s", a.Status, err, a.Body)
	}
	// The waiting login goes on with the same form…
	if a, err := send(noFollow(pending.Client.Jar), e2e.NewFormRequest(t, passwordURL.String(), password)); err != nil ||
		a.Status != http.StatusSeeOther && a.Status != http.StatusFound {
		t.Errorf("password POST after the outage: %d %v\n%s", a.Status, err, a.Body)
	}
	// …and the same sign-out request is honoured (last: it ends the tokens).
	bye := srv.URL + "/end_session?" + url.Values{"id_token_hint": {idToken},
		"post_logout_redirect_uri": {logoutURI}, "state": {"bye"}}.Encode()
	if a, err := send(noFollow(sso.Client.Jar), get(bye)); err != nil || a.Status != http.StatusFound ||
		!strings.HasPrefix(a.Header.Get("Location"), logoutURI) {
		t.Errorf("end_session after the outage: %d %v Location %q\n%s", a.Status, err, a.Header.Get("Location"), a.Body)
	}
	srv.Stop() // while the database is still there (cleanups would close the forwarder first)
}

// retrieved is the token endpoint's answer inside an x/oauth2 error, for
// the checks every answer gets.
func retrieved(err error) answer {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return answer{Status: re.Response.StatusCode, Header: re.Response.Header, Body: string(re.Body)}
	}
	return answer{}
}

// answer is one response, read.
type answer struct {
	Status int
	Header http.Header
	Body   string
}

// forward serves addr again, forwarding to target, until the test ends: the
// database back where StepGate knows it.
func forward(t *testing.T, addr, target string) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the stopped proxy's port is released at once, but be patient
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen on %s again: %v", addr, err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	keep := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			keep(client)
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			keep(server)
			wg.Go(func() { io.Copy(server, client); server.Close() })
			wg.Go(func() { io.Copy(client, server); client.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}
