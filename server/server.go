package server

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/console"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/metrics"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

// Config is the part of the configuration the server itself reads.
type Config struct {
	Issuer         string   // the OpenID issuer URL; plain http only in dev
	Dev            bool     // development mode (the provider allows http redirect URIs, …)
	TrustedProxies []string // the only peers whose X-Forwarded-For is believed

	AccessTokenLifetime time.Duration
	IDTokenLifetime     time.Duration
	RefreshLifetime     time.Duration
	SessionIdle         time.Duration
	SessionAbsolute     time.Duration

	TOTPIssuer string // the issuer authenticator apps show

	MFALockout       storage.Lockout
	PasswordLockout  storage.Lockout
	PasswordIPLimit  int
	PasswordIPWindow time.Duration
}

// insecure reports whether the issuer is plain http (dev only).
func (c Config) insecure() bool { return strings.HasPrefix(c.Issuer, "http://") }

// Database is the store's own database, not wrapped: the readiness probe
// asks it directly and the periodic cleanup runs on it.
type Database interface {
	storage.Store
	DB() *sqlx.DB
	Dialect() string
}

// Deps is everything New builds the server from.
type Deps struct {
	Config Config
	// Store is what the handlers read and write: Database, or a wrapper of
	// it (tests wrap it with one that fails on demand).
	Store    storage.Store
	Database Database
	Keys     *keys.Manager // New sets its Now to the server's clock
	Master   *keys.MasterKey
	Mailer   mail.Sender
	GeoIP    *audit.GeoIP // nil leaves audit rows' country empty
	Log      *slog.Logger
	// Now is the one clock every time-dependent rule reads: TOTP steps,
	// code and request expiry, lockouts, re-authentication periods, session
	// timeouts, token lifetimes, key rotation and the cleanup. time.Now when
	// nil.
	Now func() time.Time
}

// Server is StepGate's HTTP handler and the background work it needs.
type Server struct {
	cfg     Config
	store   storage.Store
	db      Database
	log     *slog.Logger
	now     func() time.Time
	handler http.Handler
	metrics *metrics.Metrics
}

// CodeKeyPurpose derives the HMAC key for email and backup codes from the
// master key; the CLI's backup-code regeneration must use the same.
const CodeKeyPurpose = "code-hmac"

// New builds the server: the provider's endpoints, the login pages, and the
// health checks, behind the logging and security-header middleware.
func New(d Deps) (*Server, error) {
	if d.Store == nil || d.Database == nil || d.Keys == nil || d.Master == nil || d.Mailer == nil || d.Log == nil {
		return nil, errors.New("server: Store, Database, Keys, Master, Mailer and Log are required")
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	d.Keys.Now = now
	cfg := d.Config
	s := &Server{cfg: cfg, store: d.Store, db: d.Database, log: d.Log, now: now, metrics: metrics.New()}
	s.metrics.WatchDatabase(d.Database.DB().DB)

	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	libraryRoutes := map[string]bool{} // the provider's endpoints, once it is built
	// Latency first, so that it covers every answer, recovery's too.
	engine.Use(observeRequests(s.metrics, libraryRoutes), recovery(d.Log), routeLibraryLogs(d.Log), requestLog(d.Log))
	// Only configured proxies may set X-Forwarded-For; by default none.
	if err := engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	engine.HandleMethodNotAllowed = false

	st := &op.Storage{
		Store: d.Store, Keys: keySource{d.Keys}, Now: now, Log: d.Log,
		Lifetimes: op.Lifetimes{
			AccessToken: cfg.AccessTokenLifetime, IDToken: cfg.IDTokenLifetime, Refresh: cfg.RefreshLifetime,
			Code: time.Minute, AuthRequest: 30 * time.Minute,
		},
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], d.Master.Derive("oidc-token-crypto"))
	provider, err := op.NewProvider(op.Config{
		Issuer: cfg.Issuer, Insecure: cfg.insecure(), CryptoKey: cryptoKey, Dev: cfg.Dev,
		LoggedOutURL: strings.TrimSuffix(cfg.Issuer, "/") + "/logged-out",
	}, st)
	if err != nil {
		return nil, err
	}
	pages, err := web.Parse()
	if err != nil {
		return nil, err
	}
	hasher := login.NewHasher(login.DefaultParams, 4, 2*time.Second)
	hasher.Waited = s.metrics.HashWaited
	s.metrics.WatchHasher(hasher.Slots(), hasher.InUse)
	lh := &login.Handler{
		Store: d.Store, Provider: provider, Pages: pages, Log: d.Log, Now: now, Metrics: s.metrics,
		Hasher: hasher,
		Sessions: &login.Sessions{
			Store: d.Store, Cookies: login.Cookies{Secure: !cfg.insecure()},
			Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute, Now: now,
		},
		PasswordLockout:  cfg.PasswordLockout,
		MFALockout:       cfg.MFALockout,
		PasswordIPLimit:  cfg.PasswordIPLimit,
		PasswordIPWindow: cfg.PasswordIPWindow,
		Mailer:           d.Mailer,
		Sealer:           d.Master,
		CodeKey:          d.Master.Derive(CodeKeyPurpose),
		TOTPIssuer:       cfg.TOTPIssuer,
		Rand:             rand.Reader,
		GeoIP:            d.GeoIP,
		ConsoleClientID:  admin.ConsoleClient,
	}
	prefix := provider.Prefix()
	tokenPath := prefix + provider.OP.TokenEndpoint().Relative()
	for _, e := range []*zop.Endpoint{provider.OP.AuthorizationEndpoint(), provider.OP.TokenEndpoint(),
		provider.OP.IntrospectionEndpoint(), provider.OP.UserinfoEndpoint(), provider.OP.RevocationEndpoint(),
		provider.OP.EndSessionEndpoint(), provider.OP.KeysEndpoint()} {
		libraryRoutes[prefix+e.Relative()] = true
	}
	libraryRoutes[prefix+provider.OP.AuthorizationEndpoint().Relative()+"/callback"] = true
	engine.Use(securityHeaders(tokenPath), countGrants(s.metrics, tokenPath))
	engine.GET(prefix+"/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	engine.GET(prefix+"/readyz", s.ready)
	lh.Mount(engine)
	ch := &console.Handler{
		Admin: &admin.Service{Store: d.Store, Now: now, Hasher: lh.Hasher, CodeKey: lh.CodeKey,
			ConsoleClientID: admin.ConsoleClient},
		Store: d.Store, Issuer: provider.Issuer(), Prefix: prefix, Cookies: lh.Sessions.Cookies,
		Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute, Now: now, Log: d.Log,
		Sealer: d.Master, CSRFKey: d.Master.Derive("console-csrf"), SSO: lh.Sessions, Loopback: engine,
	}
	if err := ch.Mount(engine); err != nil {
		return nil, err
	}
	provider.Mount(engine)
	s.handler = engine
	return s, nil
}

// MetricsHandler serves the server's metrics at /metrics and, with
// profiling, net/http/pprof at /debug/pprof/: for a listener of its own,
// never the one ServeHTTP is on.
func (s *Server) MetricsHandler(profiling bool) http.Handler { return s.metrics.Handler(profiling) }

// ServeHTTP serves every StepGate endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
