package e2e_test

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

	"github.com/stepgate/stepgate/internal/e2e"
)

var reference = regexp.MustCompile(`reference ([0-9a-f]{12})`)

// Refused sign-in and sign-out requests get a page. In --dev it names the
// problem; otherwise it shows only a reference, which the log line has too.
func TestErrorPages(t *testing.T) {
	eng := e2e.SQLite // what this checks does not depend on the engine
	authorize := func(srv *e2e.Server, q url.Values) *e2e.Page {
		q.Set("response_type", "code")
		q.Set("scope", "openid")
		q.Set("state", "s")
		return e2e.NewBrowser(t, "http://evil.example/").Get(srv.URL + "/authorize?" + q.Encode())
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
		srv, r, _ := setup(t, eng)
		for _, c := range refusals(r.Config.ClientID) {
			p := authorize(srv, c.q)
			if p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.Body, c.devText) || p.Header.Get("Location") != "" {
				t.Errorf("%s: %d %s\n%s", c.name, p.Status, p.Header.Get("Location"), p.Body)
			}
		}
		f := r.Start()
		tk := r.MustExchange(f, r.Login(e2e.NewBrowser(t, redirectURI), f, testEmail, testPassword))
		q := url.Values{"id_token_hint": {tk.OAuth.Extra("id_token").(string)}, "client_id": {r.Config.ClientID},
			"post_logout_redirect_uri": {"http://evil.example/bye"}}
		p := e2e.NewBrowser(t, "http://evil.example/").Get(srv.URL + "/end_session?" + q.Encode())
		if p.Status != http.StatusBadRequest || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.Body, "http://evil.example/bye is not registered for this application; registered: "+logoutURI) {
			t.Errorf("unregistered post_logout_redirect_uri: %d %s\n%s", p.Status, p.Header.Get("Content-Type"), p.Body)
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
		addr := e2e.FreePort(t)
		srv := e2e.Start(t, e2e.Options{Engine: eng, DataDir: dir, Production: true, Listen: addr, Issuer: "https://" + addr,
			Args: []string{"--master-key-file", keyFile, "--auto-migrate",
				"--smtp-url", "smtp://127.0.0.1:1", "--smtp-starttls", "none", "--log-format", "json", "--log-level", "info"}})
		c := srv.CreateClient("--name", "App", "--redirect-uri", redirectURI)
		for _, rf := range refusals(c.ClientID) {
			p := authorize(srv, rf.q)
			m := reference.FindStringSubmatch(p.Body)
			if p.Status != http.StatusBadRequest || m == nil {
				t.Errorf("%s: %d, no reference\n%s", rf.name, p.Status, p.Body)
				continue
			}
			if strings.Contains(p.Body, rf.devText) || strings.Contains(p.Body, "nope") || strings.Contains(p.Body, "evil.example") {
				t.Errorf("%s: outside dev the page names the problem:\n%s", rf.name, p.Body)
			}
			if !strings.Contains(srv.Logs(), `"ref":"`+m[1]+`"`) {
				t.Errorf("%s: reference %s is not in the log", rf.name, m[1])
			}
		}
	})

	t.Run("the issuer URL shows a page linking discovery", func(t *testing.T) {
		srv := e2e.Start(t, e2e.Options{Engine: eng, IssuerPath: "/auth"})
		for _, u := range []string{srv.URL, srv.URL + "/"} {
			p := e2e.NewBrowser(t, redirectURI).Get(u)
			if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.Body, `href="/auth/.well-known/openid-configuration"`) {
				t.Errorf("%s: %d\n%s", u, p.Status, p.Body)
			}
		}
	})
}
