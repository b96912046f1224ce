package cli

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var reference = regexp.MustCompile(`reference ([0-9a-f]{12})`)

// Refused sign-in and sign-out requests get a page. In --dev it names the
// problem; otherwise it shows only a reference, which the log line has too.
func TestErrorPages(t *testing.T) {
	_, database := firstEngine(t)
	authorize := func(srv *testServer, q url.Values) page {
		q.Set("response_type", "code")
		q.Set("scope", "openid")
		q.Set("state", "s")
		return newBrowser(t, "http://evil.example/").get(srv.issuer + "/authorize?" + q.Encode())
	}
	type refusal struct {
		name    string
		q       url.Values
		devText string
	}
	refusals := func(clientID string) []refusal {
		return []refusal{
			{"bare /authorize", url.Values{}, "no client_id"},
			{"unknown client_id", url.Values{"client_id": {"nope"}, "redirect_uri": {redirectURI}}, "No application is registered with client_id nope"},
			{"unregistered redirect_uri", url.Values{"client_id": {clientID}, "redirect_uri": {"http://evil.example/cb"}},
				"http://evil.example/cb is not registered for this application; registered: " + redirectURI},
			{"missing redirect_uri", url.Values{"client_id": {clientID}}, "no redirect_uri"},
		}
	}

	t.Run("in --dev the page names the problem", func(t *testing.T) {
		srv, r, _ := setup(t, database)
		for _, c := range refusals(r.conf.ClientID) {
			p := authorize(srv, c.q)
			if p.status != http.StatusBadRequest || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.body, c.devText) || p.header.Get("Location") != "" {
				t.Errorf("%s: %d %s\n%s", c.name, p.status, p.header.Get("Location"), p.body)
			}
		}
		f := r.start()
		tk := r.mustExchange(f, r.login(newBrowser(t, redirectURI), f, testEmail, testPassword))
		q := url.Values{"id_token_hint": {tk.oauth.Extra("id_token").(string)}, "client_id": {r.conf.ClientID},
			"post_logout_redirect_uri": {"http://evil.example/bye"}}
		p := newBrowser(t, "http://evil.example/").get(srv.issuer + "/end_session?" + q.Encode())
		if p.status != http.StatusBadRequest || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.body, "http://evil.example/bye is not registered for this application; registered: "+logoutURI) {
			t.Errorf("unregistered post_logout_redirect_uri: %d %s\n%s", p.status, p.header.Get("Content-Type"), p.body)
		}
	})

	t.Run("outside dev the page shows a reference that is in the log", func(t *testing.T) {
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "master.key")
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(key)), 0o600); err != nil {
			t.Fatal(err)
		}
		addr := freePort(t)
		srv := &testServer{t: t, issuer: "http://" + addr, dataDir: dir, logs: &syncBuffer{},
			args: []string{"--data-dir", dir, "--database", database(t, dir), "--listen", addr,
				"--issuer", "https://" + addr, "--master-key-file", keyFile, "--auto-migrate",
				"--smtp-url", "smtp://127.0.0.1:1", "--smtp-starttls", "none", "--log-format", "json"}}
		srv.start()
		c := srv.createClient("--name", "App", "--redirect-uri", redirectURI)
		for _, rf := range refusals(c.ClientID) {
			p := authorize(srv, rf.q)
			m := reference.FindStringSubmatch(p.body)
			if p.status != http.StatusBadRequest || m == nil {
				t.Errorf("%s: %d, no reference\n%s", rf.name, p.status, p.body)
				continue
			}
			if strings.Contains(p.body, rf.devText) || strings.Contains(p.body, "nope") || strings.Contains(p.body, "evil.example") {
				t.Errorf("%s: outside dev the page names the problem:\n%s", rf.name, p.body)
			}
			if !strings.Contains(srv.logs.String(), `"ref":"`+m[1]+`"`) {
				t.Errorf("%s: reference %s is not in the log", rf.name, m[1])
			}
		}
	})

	t.Run("the issuer URL shows a page linking discovery", func(t *testing.T) {
		dir := t.TempDir()
		srv := startServerAt(t, "/auth", database(t, dir), dir)
		for _, u := range []string{srv.issuer, srv.issuer + "/"} {
			p := newBrowser(t, redirectURI).get(u)
			if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.body, `href="/auth/.well-known/openid-configuration"`) {
				t.Errorf("%s: %d\n%s", u, p.status, p.body)
			}
		}
	})
}
