package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/internal/e2e"
)

// A code is consumed only by a token request that passes every check: a
// failed request (wrong secret, no verifier, another redirect URI, another
// client) leaves it to the legitimate client, and of two successful
// redemptions exactly one wins.
func TestCodeSurvivesFailedTokenRequests(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, _ := setup(t, eng)
			other := e2e.NewRP(t, srv, srv.CreateClient("--name", "Other App", "--redirect-uri", redirectURI))

			failures := map[string]func(r *e2e.RP, f e2e.Flow, code string) error{
				"wrong client secret": func(r *e2e.RP, f e2e.Flow, code string) error {
					bad := *r
					bad.Config.ClientSecret = "not-the-secret"
					_, err := bad.Exchange(f, code)
					return err
				},
				"missing code_verifier": func(r *e2e.RP, f e2e.Flow, code string) error {
					_, err := r.Config.Exchange(context.Background(), code)
					return err
				},
				"wrong code_verifier": func(r *e2e.RP, f e2e.Flow, code string) error {
					wrong := f
					wrong.Verifier = oauth2.GenerateVerifier()
					_, err := r.Exchange(wrong, code)
					return err
				},
				"wrong redirect_uri": func(r *e2e.RP, f e2e.Flow, code string) error {
					bad := *r
					bad.Config.RedirectURL = logoutURI
					_, err := bad.Exchange(f, code)
					return err
				},
				"another client's credentials": func(r *e2e.RP, f e2e.Flow, code string) error {
					_, err := other.Exchange(f, code)
					return err
				},
			}
			for what, fail := range failures {
				t.Run(what+" fails and leaves the code to its client", func(t *testing.T) {
					r := r.In(t)
					b := e2e.NewBrowser(t, redirectURI)
					f := r.Start()
					code := r.Login(b, f, testEmail, testPassword)
					if err := fail(r, f, code); err == nil {
						t.Fatal("the bad token request succeeded")
					}
					tk := r.MustExchange(f, code)
					if in := r.Introspect(tk.OAuth.AccessToken); in["active"] != true {
						t.Errorf("access token of the legitimate redemption inactive: %v", in)
					}
				})
			}
			if strings.Contains(srv.Logs(), "code reused") {
				t.Errorf("failed token requests were logged as code reuse:\n%s", srv.Logs())
			}

			t.Run("a second successful redemption fails and revokes the first's tokens", func(t *testing.T) {
				r := r.In(t)
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, testEmail, testPassword)
				first := r.MustExchange(f, code)
				if _, err := r.Exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("second redemption: %v", err)
				}
				if in := r.Introspect(first.OAuth.AccessToken); in["active"] != false {
					t.Errorf("first redemption's access token still active: %v", in)
				}
				ts := r.Config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: first.OAuth.RefreshToken})
				if _, err := ts.Token(); err == nil {
					t.Error("first redemption's refresh token still works")
				}
			})

			t.Run("a replay that fails a check revokes nothing", func(t *testing.T) {
				r := r.In(t)
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, testEmail, testPassword)
				first := r.MustExchange(f, code)
				for what, fail := range failures {
					if err := fail(r, f, code); err == nil {
						t.Fatalf("%s: the replay succeeded", what)
					}
				}
				if in := r.Introspect(first.OAuth.AccessToken); in["active"] != true {
					t.Fatalf("a replay that failed its checks revoked the first redemption's access token: %v", in)
				}
				if _, err := r.Exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("replay with every check passing: %v, want invalid_grant", err)
				}
				if in := r.Introspect(first.OAuth.AccessToken); in["active"] != false {
					t.Errorf("a replay that passed every check left the first redemption's access token active: %v", in)
				}
			})

			t.Run("concurrent redemptions: exactly one wins, and its tokens are revoked", func(t *testing.T) {
				r := r.In(t)
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, testEmail, testPassword)
				const n = 8
				var wg sync.WaitGroup
				results := make([]e2e.Tokens, n)
				errs := make([]error, n)
				for i := range n {
					wg.Go(func() { results[i], errs[i] = r.Exchange(f, code) })
				}
				wg.Wait()
				var winners []e2e.Tokens
				for i, err := range errs {
					switch {
					case err == nil:
						winners = append(winners, results[i])
					case !strings.Contains(err.Error(), "invalid_grant"):
						t.Errorf("losing redemption: %v, want invalid_grant", err)
					}
				}
				if len(winners) != 1 {
					t.Fatalf("%d redemptions succeeded, want exactly 1", len(winners))
				}
				if in := r.Introspect(winners[0].OAuth.AccessToken); in["active"] != false {
					t.Errorf("the winner's access token survived a concurrent replay: %v", in)
				}
			})

			t.Run("a user disabled after the login gets no tokens for its code", func(t *testing.T) {
				r := r.In(t)
				srv.CreateUser("late@example.com", testPassword)
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				code := r.Login(b, f, "late@example.com", testPassword)
				srv.CLI("user", "disable", "late@example.com")
				if _, err := r.Exchange(f, code); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
					t.Fatalf("code of a disabled user: %v, want invalid_grant", err)
				}
			})

			t.Run("a failed request for a public client leaves the code too", func(t *testing.T) {
				pub := e2e.NewRP(t, srv, srv.CreateClient("--name", "SPA", "--public", "--redirect-uri", redirectURI))
				b := e2e.NewBrowser(t, redirectURI)
				f := pub.Start()
				code := pub.Login(b, f, testEmail, testPassword)
				form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {pub.Config.ClientID},
					"redirect_uri": {redirectURI}}
				resp, err := http.PostForm(pub.Provider.Endpoint().TokenURL, form)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Fatal("a public client redeemed a code without its verifier")
				}
				pub.MustExchange(f, code)
			})
		})
	}
}
