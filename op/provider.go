package op

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/stepgate/stepgate/storage"
)

// ACR values StepGate issues: password only, or password plus a second factor.
var ACRValuesSupported = []string{"1fa", "2fa"}

// ClaimsSupported is what ID tokens and userinfo may carry.
var ClaimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash",
	"email", "email_verified", "name", "preferred_username",
}

// JWKSMaxAge is how long clients may cache the JWKS. A rotated key is
// published for at least the rotation delay before it signs, which should
// be longer than this.
const JWKSMaxAge = 300

// Config configures the provider.
type Config struct {
	Issuer    string
	Insecure  bool     // allow an http issuer (--dev on localhost)
	CryptoKey [32]byte // encrypts opaque access tokens and codes
	// LoggedOutURL is where end_session lands without a registered
	// post_logout_redirect_uri.
	LoggedOutURL string
	// Dev makes error pages name the problem (--dev).
	Dev bool
}

// Provider is the OpenID Provider and its HTTP surface.
type Provider struct {
	OP      *zop.Provider
	Storage *Storage
	issuer  string
	prefix  string // issuer path, "" or "/something"
	dev     bool
	// OnLogout runs on a successful RP-initiated logout before the redirect,
	// so the login layer can end the browser's SSO session and cookie.
	OnLogout func(w http.ResponseWriter, r *http.Request)
	// CallbackAllowed guards the authorize callback, where the library
	// issues the code for a completed request: the login layer checks the
	// request belongs to this browser's session, so a leaked request ID
	// cannot be redeemed in another browser.
	// It gets the request as loaded here (nil when it is unknown), so the
	// database is asked once.
	CallbackAllowed func(r *http.Request, req *storage.AuthRequest) bool
	// ErrorPage renders an authorization error that must not be redirected
	// (unknown client, unregistered redirect URI, a callback from the wrong
	// browser) as a page of the site instead of plain text.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, title, message string)
}

// NewProvider builds the library provider over st.
func NewProvider(cfg Config, st *Storage) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	p := &Provider{Storage: st, issuer: strings.TrimSuffix(cfg.Issuer, "/"), prefix: prefix, dev: cfg.Dev}
	st.LoginURL = func(id string) string { return prefix + "/login?authRequestID=" + url.QueryEscape(id) }
	aes := zop.NewAES256GCMCrypto(cfg.CryptoKey, "")
	opts := []zop.Option{zop.WithCrypto(tokenCrypto{opaque: aes, jwts: &st.jwts}), zop.WithCORSOptions(corsOptions())}
	if cfg.Insecure {
		opts = append(opts, zop.WithAllowInsecure())
	}
	p.OP, err = zop.NewProvider(&zop.Config{
		CryptoKey:                cfg.CryptoKey,
		DefaultLogoutRedirectURI: cfg.LoggedOutURL,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedClaims:          ClaimsSupported,
		SupportedScopes:          SupportedScopes,
	}, st, zop.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// corsOptions let browser applications (public clients with PKCE) call the
// protocol endpoints from any origin, but never with the browser's
// credentials: the library's default reflects every Origin with
// Access-Control-Allow-Credentials, which would let any site use a cookie or
// a cached Basic authorization for the token endpoint.
func corsOptions() *cors.Options {
	return &cors.Options{
		AllowedOrigins:   []string{"*"},
		AllowCredentials: false,
		AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	}
}

// Issuer is the issuer URL without a trailing slash.
func (p *Provider) Issuer() string { return p.issuer }

// Prefix is the issuer's path ("" for an issuer at the root); every
// StepGate route lives under it.
func (p *Provider) Prefix() string { return p.prefix }

// CallbackURL is where the login flow sends the browser once the request is
// complete; the library then issues the code.
func (p *Provider) CallbackURL(ctx context.Context, authRequestID string) string {
	return zop.AuthCallbackURL(p.OP)(zop.ContextWithIssuer(ctx, p.issuer), authRequestID)
}

// RedirectError ends an authorization request with an OAuth error sent to
// the client's redirect URI (login_required, interaction_required, …).
func (p *Provider) RedirectError(w http.ResponseWriter, r *http.Request, req *storage.AuthRequest, err *oidc.Error) {
	zop.AuthRequestError(w, r.WithContext(zop.ContextWithIssuer(r.Context(), p.issuer)), authRequest{req}, err, p.OP)
}

// Mount serves discovery and every protocol endpoint under the issuer path.
// The library's router answers whatever the engine's own routes do not.
// Every request carries a failure record (see failure.go): when the store
// failed, the client gets the generic answer, whatever the library meant
// to write.
func (p *Provider) Mount(e *gin.Engine) {
	e.GET(p.prefix+"/.well-known/openid-configuration", gin.WrapF(p.tracked(p.discovery, nil)))
	e.GET(p.prefix+"/", gin.WrapF(p.issuerHome))
	if p.prefix != "" {
		e.GET(p.prefix, gin.WrapF(p.issuerHome))
	}
	inner := http.StripPrefix(p.prefix, p.OP)
	keysPath := p.prefix + p.OP.KeysEndpoint().Relative()
	endSessionPath := p.prefix + p.OP.EndSessionEndpoint().Relative()
	authorizePath := p.prefix + p.OP.AuthorizationEndpoint().Relative()
	userinfoPath := p.prefix + p.OP.UserinfoEndpoint().Relative()
	clientAuthPaths := []string{p.prefix + p.OP.TokenEndpoint().Relative(),
		p.prefix + p.OP.IntrospectionEndpoint().Relative(), p.prefix + p.OP.RevocationEndpoint().Relative()}
	callbackPath := authorizePath + "/callback"
	browser := func(path string) bool {
		return path == authorizePath || path == callbackPath || path == endSessionPath
	}
	e.NoRoute(gin.WrapF(func(w http.ResponseWriter, r *http.Request) {
		if p.prefix != "" && r.URL.Path != p.prefix && !strings.HasPrefix(r.URL.Path, p.prefix+"/") {
			http.NotFound(w, r)
			return
		}
		var page func(http.ResponseWriter, int)
		if browser(r.URL.Path) {
			page = func(w http.ResponseWriter, status int) { p.unavailablePage(w, r, status) }
		}
		if slices.Contains(clientAuthPaths, r.URL.Path) {
			w = &basicChallengeWriter{ResponseWriter: w, realm: p.issuer}
		}
		p.tracked(func(w http.ResponseWriter, r *http.Request) {
			p.serve(w, r, inner, keysPath, endSessionPath, authorizePath, callbackPath, userinfoPath)
		}, page)(w, r)
	}))
}

// tracked gives the request a failure record and answers generically when
// it is marked.
func (p *Provider) tracked(h http.HandlerFunc, page func(http.ResponseWriter, int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, f := withFailure(r.Context())
		h(&failureWriter{ResponseWriter: w, f: f, page: page}, r.WithContext(ctx))
	}
}

func (p *Provider) unavailablePage(w http.ResponseWriter, r *http.Request, status int) {
	const msg = "StepGate cannot complete this right now. Please try again in a moment."
	if p.ErrorPage != nil {
		p.ErrorPage(w, r, status, "Service unavailable", msg)
		return
	}
	http.Error(w, msg, status)
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request, inner http.Handler,
	keysPath, endSessionPath, authorizePath, callbackPath, userinfoPath string) {
	switch {
	case r.URL.Path == authorizePath:
		// The library drops the claims parameter; keep it for
		// CreateAuthRequest.
		if err := r.ParseForm(); err == nil && r.Form.Get("claims") != "" {
			r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, r.Form.Get("claims")))
		}
		p.serveOrRefuse(w, r, inner, "Invalid sign-in request", p.authorizeProblem,
			"client_id", r.Form.Get("client_id"), "redirect_uri", r.Form.Get("redirect_uri"))
		return
	case r.URL.Path == keysPath:
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(JWKSMaxAge))
	case r.URL.Path == callbackPath:
		if !p.callback(w, r) {
			return
		}
	case r.URL.Path == userinfoPath:
		noToken := r.Header.Get("Authorization") == "" && r.FormValue("access_token") == ""
		w = &bearerChallengeWriter{ResponseWriter: w, noToken: noToken}
	case r.URL.Path == endSessionPath:
		// The library answers a query it cannot parse with a 500 that
		// quotes the parser.
		if err := r.ParseForm(); err != nil {
			const msg = "The sign-out request is malformed. Return to the application and try again."
			if p.ErrorPage != nil {
				p.ErrorPage(w, r, http.StatusBadRequest, "Invalid sign-out request", msg)
			} else {
				http.Error(w, msg, http.StatusBadRequest)
			}
			return
		}
		if p.OnLogout != nil {
			w = &logoutWriter{ResponseWriter: w, r: r, onLogout: p.OnLogout}
		}
		// An invalid request (unregistered post_logout_redirect_uri, bad
		// id_token_hint) is answered with JSON by the library; a browser
		// gets a page.
		p.serveOrRefuse(w, r, inner, "Invalid sign-out request", p.endSessionProblem,
			"client_id", r.Form.Get("client_id"), "post_logout_redirect_uri", r.Form.Get("post_logout_redirect_uri"))
		return
	}
	inner.ServeHTTP(w, r)
}

// serveOrRefuse lets the library answer a browser request and replaces a
// refusal it would write as text or JSON with the error page, saying what
// problem finds wrong. A request that already failed on the database gets
// the failure page instead, without asking the database again (a frozen
// one would make it wait once per question).
func (p *Provider) serveOrRefuse(w http.ResponseWriter, r *http.Request, inner http.Handler, title string,
	problem func(ctx context.Context, r *http.Request, libraryText string) string, logArgs ...any) {
	ew := &errorPageWriter{ResponseWriter: w}
	inner.ServeHTTP(ew, r)
	switch {
	case !ew.intercepted:
	case failed(r.Context()):
		w.WriteHeader(http.StatusServiceUnavailable) // replaced by the failure page
	default:
		p.refuse(w, r, title, problem(r.Context(), r, ew.text.String()), logArgs...)
	}
}

// callback checks the authorize callback before the library issues the
// code; false means it answered the request itself.
func (p *Provider) callback(w http.ResponseWriter, r *http.Request) bool {
	id := r.URL.Query().Get("id")
	page := func(status int, title, msg string) bool {
		if p.ErrorPage != nil {
			p.ErrorPage(w, r, status, title, msg)
		} else {
			http.Error(w, msg, status)
		}
		return false
	}
	req, err := p.Storage.Store.GetAuthRequest(r.Context(), id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.Storage.fail(r.Context(), "authorize callback: load auth request", err)
		w.WriteHeader(http.StatusServiceUnavailable) // replaced by the failure page
		return false
	}
	if p.CallbackAllowed != nil && !p.CallbackAllowed(r, req) {
		return page(http.StatusBadRequest, "Sign-in not completed",
			"This sign-in cannot be completed in this browser. Return to the application and start again.")
	}
	// A reload after the code was issued: the library would send the
	// conflict to the application as error=server_error.
	if err == nil && req.CodeHash != "" {
		return page(http.StatusBadRequest, "Sign-in already completed",
			"This sign-in was already completed and sent back to the application. Return to the application to continue.")
	}
	return true
}

// basicChallengeWriter adds the challenge RFC 6749 §5.2 asks of a 401 from
// an endpoint where clients authenticate with HTTP Basic.
type basicChallengeWriter struct {
	http.ResponseWriter
	realm string
}

func (b *basicChallengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized && b.Header().Get("WWW-Authenticate") == "" {
		b.Header().Set("WWW-Authenticate", `Basic realm="`+b.realm+`", charset="UTF-8"`)
	}
	b.ResponseWriter.WriteHeader(code)
}

func (b *basicChallengeWriter) Write(p []byte) (int, error) { return b.ResponseWriter.Write(p) }

// bearerChallengeWriter adds the RFC 6750 §3 challenge to a refused
// userinfo request. The library answers an inactive token with 403; it is
// an invalid token, so 401 invalid_token.
type bearerChallengeWriter struct {
	http.ResponseWriter
	noToken  bool // no credentials at all: a challenge without an error code (RFC 6750 §3.1)
	replaced bool
}

func (b *bearerChallengeWriter) WriteHeader(code int) {
	if code != http.StatusUnauthorized && code != http.StatusForbidden {
		b.ResponseWriter.WriteHeader(code)
		return
	}
	b.replaced = true
	h := b.Header()
	if b.noToken {
		h.Set("WWW-Authenticate", "Bearer")
	} else {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is not valid"`)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	b.ResponseWriter.WriteHeader(http.StatusUnauthorized)
	b.ResponseWriter.Write([]byte(`{"error":"invalid_token","error_description":"The access token is not valid"}` + "\n"))
}

func (b *bearerChallengeWriter) Write(p []byte) (int, error) {
	if b.replaced {
		return len(p), nil
	}
	return b.ResponseWriter.Write(p)
}

type claimsKey struct{}

// claimsParam is the raw OIDC claims parameter of the authorization request
// being handled, if any.
func claimsParam(ctx context.Context) string {
	v, _ := ctx.Value(claimsKey{}).(string)
	return v
}

// discovery serves the library's document with what the library leaves
// out: acr_values_supported, S256 only, and exactly the grants we support.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := zop.ContextWithIssuer(r.Context(), p.issuer)
	d := zop.CreateDiscoveryConfig(ctx, p.OP, p.Storage)
	d.ACRValuesSupported = ACRValuesSupported
	d.ClaimsParameterSupported = true
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{"query"}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.DeviceAuthorizationEndpoint = ""
	d.CheckSessionIframe = ""
	d.RequestObjectSigningAlgValuesSupported = nil
	d.TokenEndpointAuthSigningAlgValuesSupported = nil
	d.RevocationEndpointAuthSigningAlgValuesSupported = nil
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(JWKSMaxAge))
	json.NewEncoder(w).Encode(d)
}

// logoutWriter runs onLogout when end_session answers with a redirect,
// i.e. when the library accepted the logout request.
type logoutWriter struct {
	http.ResponseWriter
	r        *http.Request
	onLogout func(http.ResponseWriter, *http.Request)
	done     bool
}

func (l *logoutWriter) WriteHeader(code int) {
	if !l.done && code >= 300 && code < 400 {
		l.done = true
		l.onLogout(l.ResponseWriter, l.r)
	}
	l.ResponseWriter.WriteHeader(code)
}
