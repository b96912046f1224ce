package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/stepgate/stepgate/internal/e2e"
)

func jwksKids(t *testing.T, issuer string) []string {
	t.Helper()
	resp, err := http.Get(issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			Alg string `json:"alg"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	slices.Sort(kids)
	return kids
}

func TestServeDevCreatesDatabaseAndReusesItsKey(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			srv := e2e.Start(t, e2e.Options{Engine: eng})
			dir := srv.DataDir
			if !eng.Postgres() {
				if _, err := os.Stat(filepath.Join(dir, "stepgate.db")); err != nil {
					t.Fatalf("database file not created: %v", err)
				}
			}
			info, err := os.Stat(filepath.Join(dir, "master.key"))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("dev master key: %v, mode %v", err, info)
			}
			if _, err := oidc.NewProvider(context.Background(), srv.URL); err != nil {
				t.Fatalf("discovery document rejected by go-oidc: %v", err)
			}
			first := jwksKids(t, srv.URL)
			if len(first) != 1 {
				t.Fatalf("JWKS kids = %v, want one key", first)
			}
			if !strings.Contains(srv.Stdout(), "owner@stepgate.localhost") {
				t.Error("first --dev start did not print the dev owner")
			}
			for _, path := range []string{"/healthz", "/readyz"} {
				resp, err := http.Get(srv.URL + path)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s: %v %v", path, err, resp)
				}
				resp.Body.Close()
			}
			srv.Restart()
			if again := jwksKids(t, srv.URL); !slices.Equal(again, first) {
				t.Fatalf("after restart JWKS kids = %v, want %v (no regeneration)", again, first)
			}
			if strings.Contains(srv.Stdout(), "owner@stepgate.localhost") {
				t.Error("dev credentials printed again on restart")
			}
		})
	}
}

func TestKeyRotationPublishesNewKeyAndOldTokensStillVerify(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			srv, r, _ := setup(t, eng)
			b := e2e.NewBrowser(t, redirectURI)
			f := r.Start()
			old := r.MustExchange(f, r.Login(b, f, testEmail, testPassword))
			before := jwksKids(t, srv.URL)

			out := srv.CLI("keys", "rotate")
			if !strings.Contains(out, "published now") {
				t.Fatalf("keys rotate: %s", out)
			}
			srv.Restart()
			after := jwksKids(t, srv.URL)
			if len(after) != 2 || !slices.Contains(after, before[0]) {
				t.Fatalf("JWKS after rotation = %v, want the old key %v and a new one", after, before)
			}
			if list := srv.CLI("keys", "list"); !strings.Contains(list, "pending") || !strings.Contains(list, "active") {
				t.Errorf("keys list:\n%s", list)
			}
			// A relying party with a fresh key cache verifies the token the
			// old key signed.
			fresh := e2e.NewRP(t, srv, e2e.Client{ClientID: r.Config.ClientID, ClientSecret: r.Config.ClientSecret})
			if _, err := fresh.Verifier.Verify(context.Background(), old.OAuth.Extra("id_token").(string)); err != nil {
				t.Fatalf("token signed before rotation does not verify: %v", err)
			}
		})
	}
}

func TestStartupRefusals(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "master.key")
	otherKey := filepath.Join(dir, "other.key")
	os.WriteFile(keyFile, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"), 0o600)  // "0123456789abcdef0123456789abcdef"
	os.WriteFile(otherKey, []byte("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=\n"), 0o600) // "fedcba9876543210fedcba9876543210"
	db := "sqlite://" + filepath.Join(dir, "prod.db")
	base := []string{"--database", db, "--issuer", "https://login.example.com", "--listen", e2e.FreePort(t)}
	runCode := func(args ...string) (int, string) {
		r := e2e.RunCLI(t.Context(), "", args...)
		return r.Code, r.Output
	}

	if code, out := runCode(append([]string{"serve", "--master-key-file", keyFile}, base...)...); code != 1 || !strings.Contains(out, "pending migration") {
		t.Fatalf("unmigrated schema without --auto-migrate: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"migrate", "status"}, base...)...); code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"migrate", "up"}, base...)...); code != 0 || !strings.Contains(out, "applied 0001") {
		t.Fatalf("migrate up: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"migrate", "up"}, base...)...); code != 0 || !strings.Contains(out, "nothing applied") {
		t.Fatalf("second migrate up: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"keys", "list"}, base...)...); code != 1 || !strings.Contains(out, "no master key") {
		t.Fatalf("no master key outside dev: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"keys", "rotate", "--master-key-file", keyFile}, base...)...); code != 0 {
		t.Fatalf("keys rotate: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"keys", "rotate", "--master-key-file", otherKey}, base...)...); code != 1 ||
		!strings.Contains(out, "wrong master key") {
		t.Fatalf("rotate with another master key: %d %s", code, out)
	}
	if code, out := runCode(append([]string{"serve", "--master-key-file", otherKey}, base...)...); code != 1 ||
		!strings.Contains(out, "cannot be decrypted: wrong master key or corrupted data") {
		t.Fatalf("serve with another master key: %d %s", code, out)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("not base64 at all!"), 0o600)
	if code, out := runCode(append([]string{"serve", "--master-key-file", bad}, base...)...); code != 1 || strings.Contains(out, "panic") {
		t.Fatalf("corrupted master key file: %d %s", code, out)
	}
	// Nothing above created a second key to paper over the wrong one.
	if code, out := runCode(append([]string{"keys", "list", "--master-key-file", keyFile}, base...)...); code != 0 || strings.Count(out, "RS256") != 1 {
		t.Fatalf("keys list: %d %s", code, out)
	}
}

func TestIssuerWithAPath(t *testing.T) {
	srv := e2e.Start(t, e2e.Options{IssuerPath: "/auth"})
	srv.CreateUser(testEmail, testPassword)
	c := srv.CreateClient("--name", "App", "--redirect-uri", redirectURI)
	r := e2e.NewRP(t, srv, c) // go-oidc checks the document's issuer matches
	for _, path := range []string{"/keys", "/healthz", "/login?authRequestID=x"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			t.Errorf("%s not served under the issuer path", path)
		}
	}
	if resp, _ := http.Get(strings.TrimSuffix(srv.URL, "/auth") + "/keys"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Error("/keys served outside the issuer path")
	}
	b := e2e.NewBrowser(t, redirectURI)
	f := r.Start()
	if tk := r.MustExchange(f, r.Login(b, f, testEmail, testPassword)); tk.Claims["iss"] != srv.Issuer {
		t.Errorf("iss = %v", tk.Claims["iss"])
	}
}
