package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

// Handler serves the console. Its fields are its dependencies.
type Handler struct {
	// Admin is the service every page calls; its ConsoleClientID is the
	// console's client.
	Admin *admin.Service
	Store storage.Store
	// Issuer is StepGate's issuer URL; Prefix its path ("" at the root).
	Issuer string
	Prefix string
	// Cookies are the console's cookies: Secure with __Host- over https,
	// as the login's are.
	Cookies login.Cookies
	// Idle and Absolute bound a console session, as the SSO session's
	// settings bound those.
	Idle     time.Duration
	Absolute time.Duration
	Now      func() time.Time
	Log      *slog.Logger
	// Sealer seals the console's short-lived cookies (the login in progress,
	// a form's outcome); the master key.
	Sealer interface {
		Seal(plaintext, aad []byte) ([]byte, error)
		Open(sealed, aad []byte) ([]byte, error)
	}
	// CSRFKey keys the per-session CSRF tokens.
	CSRFKey []byte
	// SSO tells, at the console's callback, when the browser's SSO session
	// did its second factors (the ID token says that one was done, not
	// when).
	SSO SSOSessions
	// Loopback serves StepGate's own protocol endpoints in process: the
	// console is an OIDC client of this very server, and its discovery,
	// key and token requests need not leave the process (nor know how the
	// server is reached from outside).
	Loopback http.Handler

	pages *web.Pages

	rpMu sync.Mutex // guards rp
	rp   *relyingParty
}

// SSOSessions reads the browser's SSO session: its user and the
// authentication steps it has done (login.Sessions).
type SSOSessions interface {
	Lookup(ctx context.Context, r *http.Request) (*storage.Session, *storage.User, error)
}

// Paths under the issuer.
const (
	Path         = "/console"
	callbackPath = admin.ConsoleCallbackPath
	signedOut    = admin.ConsoleSignedOutPath
)

// FreshMFA is how recent a second factor must be for a destructive action
// (reset an authenticator, turn OTP off, disable a user, change the
// workspace's security).
const FreshMFA = admin.ConsoleMFAMaxAge

// Mount registers the console's routes.
func (h *Handler) Mount(r gin.IRoutes) error {
	p, err := parsePages()
	if err != nil {
		return err
	}
	h.pages = p
	base := h.Prefix + Path
	r.GET(base+"/static/*file", h.static)
	r.GET(h.Prefix+callbackPath, h.callback)
	r.GET(h.Prefix+signedOut, h.signedOut)
	r.POST(base+"/sign-out", h.form(h.signOut))
	r.GET(base+"/resume", h.guard(h.showResume))
	r.POST(base+"/resume/cancel", h.form(h.cancelResume))
	r.GET(base, h.guard(h.dashboard))
	h.mountPages(r, base)
	return nil
}

// relyingParty is the console's OIDC client: discovery, its key set and
// the token endpoint, all served by Loopback.
type relyingParty struct {
	client   *http.Client
	provider *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// relying returns the console's OIDC client, discovering the issuer on
// first use (and again after a failed attempt).
func (h *Handler) relying(ctx context.Context) (*relyingParty, error) {
	h.rpMu.Lock()
	defer h.rpMu.Unlock()
	if h.rp != nil {
		return h.rp, nil
	}
	client := &http.Client{Transport: loopback{h.Loopback}, Timeout: 10 * time.Second}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), h.Issuer)
	if err != nil {
		return nil, err
	}
	rp := &relyingParty{
		client: client, provider: provider,
		config: oauth2.Config{
			ClientID: admin.ConsoleClient, Endpoint: provider.Endpoint(),
			RedirectURL: h.Issuer + callbackPath, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: admin.ConsoleClient, Now: h.Now}),
	}
	h.rp = rp
	return rp, nil
}

// loopback is an http.RoundTripper that serves requests in process.
type loopback struct{ h http.Handler }

func (l loopback) RoundTrip(r *http.Request) (*http.Response, error) {
	in := r.Clone(r.Context())
	in.RequestURI = in.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := newRecorder()
	l.h.ServeHTTP(rec, in)
	return rec.response(r), nil
}

// returnPath is a console path to come back to after signing in: only a
// path under the console, never another site.
func (h *Handler) returnPath(raw string) string {
	base := h.Prefix + Path
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		(u.Path != base && !strings.HasPrefix(u.Path, base+"/")) || strings.Contains(u.Path, "/../") ||
		strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\\r\n") {
		return base
	}
	return u.RequestURI()
}
