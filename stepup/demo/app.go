package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/stepup"
)

// APIRequirement is what /api/secret demands of the login behind a token.
var APIRequirement = stepup.Requirement{ACR: "2fa", MaxAge: 5 * time.Minute}

// Config is what the demo needs to know.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string // "" for a public client; PKCE is used either way
	// BaseURL is where browsers reach the demo, e.g. http://127.0.0.1:9000.
	// The redirect URI is BaseURL+"/callback"; the app calls its API at
	// BaseURL+"/api/secret".
	BaseURL string
	// HTTPClient makes the discovery, token and API requests; nil means a
	// client with a 10 s timeout.
	HTTPClient *http.Client
	Log        *slog.Logger // nil discards
}

// New discovers the issuer and returns the demo's handler: the app at /,
// /login, /callback, /call and /logout, and the API at /api/secret.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.BaseURL == "" {
		return nil, errors.New("demo: issuer, client ID and base URL are required")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("demo: discover %s: %w", cfg.Issuer, err)
	}
	// The app's ID tokens and the API's access tokens are checked against
	// the provider's one key cache.
	api := stepup.NewVerifierFromProvider(provider, stepup.WithAudience(cfg.ClientID), stepup.WithRealm("stepgate-demo"))
	a := &app{
		cfg: cfg,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: cfg.BaseURL + "/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
		},
		idTokens: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		sessions: map[string]*session{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /call", a.call)
	mux.HandleFunc("POST /logout", a.logout)
	mux.Handle("/api/secret", api.Middleware(APIRequirement, http.HandlerFunc(secret)))
	return mux, nil
}

// app is the relying party. Its sessions live in memory only: a restart
// logs everyone out, which is all a demo needs.
type app struct {
	cfg      Config
	oauth    oauth2.Config
	idTokens *oidc.IDTokenVerifier

	mu       sync.Mutex
	sessions map[string]*session // by cookie value
}

// session is one browser's state; guarded by app.mu.
type session struct {
	csrf    string
	pending *attempt   // the authorization request in flight
	user    *user      // nil until a login completed
	result  *apiResult // the last API call
}

// attempt is an authorization request the browser was sent on.
type attempt struct {
	state, nonce, verifier string
	thenCall               bool // call the API again after the callback
}

// user is what the last login told the app, from its verified ID token.
type user struct {
	Name, Subject string
	ACR           string
	AMR           []string
	AuthTime      time.Time
	accessToken   string
}

type apiResult struct {
	Status int
	Body   string
	At     time.Time
}

const sessionCookie = "stepgate_demo"

// session returns the browser's session, creating one (and its cookie)
// when create is set. The caller holds a.mu.
func (a *app) session(w http.ResponseWriter, r *http.Request, create bool) *session {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s := a.sessions[c.Value]; s != nil {
			return s
		}
	}
	if !create {
		return nil
	}
	id := rand.Text()
	s := &session{csrf: rand.Text()}
	a.sessions[id] = s
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(a.cfg.BaseURL, "https://")})
	return s
}

// checkCSRF compares the form's token with the session's. SameSite=Lax
// already keeps other sites' POSTs from carrying the cookie; the token is
// for older browsers.
func checkCSRF(s *session, r *http.Request) bool {
	return s != nil && subtle.ConstantTimeCompare([]byte(s.csrf), []byte(r.PostFormValue("csrf_token"))) == 1
}

//go:embed page.html
var pageFS embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFS, "page.html"))

// view is what page.html shows.
type view struct {
	User        *user
	Result      *apiResult
	Error       string
	CSRF        string
	Requirement stepup.Requirement
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.page(w, r, http.StatusOK, "")
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if s := a.session(w, r, false); checkCSRF(s, r) {
		s.user, s.result, s.pending = nil, nil, nil
	}
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// fail shows an error on the home page. Only messages meant for the user
// reach the page; err goes to the log.
func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	if err != nil {
		a.cfg.Log.ErrorContext(r.Context(), msg, "err", err)
	}
	a.page(w, r, status, msg)
}

// page renders the home page for the browser's session, with msg as its
// error line.
func (a *app) page(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.mu.Lock()
	v := view{Requirement: APIRequirement, Error: msg}
	if s := a.session(w, r, false); s != nil {
		v.User, v.Result, v.CSRF = s.user, s.result, s.csrf
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, v); err != nil {
		a.cfg.Log.Error("render page", "err", err)
	}
}
