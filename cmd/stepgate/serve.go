package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/web"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, rest, log, err := load(e, "serve", args, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("serve takes no arguments, got %q", rest)
	}
	a, err := open(ctx, cfg, log, *cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer a.close()
	if e.wrapStore != nil {
		a.served = e.wrapStore(a.store)
		a.keys.Store = a.served
	}
	if err := a.keys.EnsureKey(ctx); err != nil {
		return err
	}
	if cfg.Dev {
		if err := devBootstrap(ctx, a, e); err != nil {
			return err
		}
	}
	handler, err := a.handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("StepGate is listening", "issuer", cfg.Issuer, "addr", ln.Addr().String(),
		"database", redactURL(cfg.Database), "version", version)
	fmt.Fprintf(e.stdout, "StepGate issuer: %s\n", cfg.Issuer)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go a.cleanup(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// handler builds the Gin engine: the provider's endpoints, the login
// pages, and the health checks.
func (a *app) handler() (http.Handler, error) {
	cfg := a.cfg
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.Use(recovery(a.log), routeLibraryLogs(a.log), requestLog(a.log))
	// Only configured proxies may set X-Forwarded-For; by default none.
	if err := engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	engine.HandleMethodNotAllowed = false

	store := a.servedStore()
	st := &op.Storage{
		Store: store, Keys: keySource{a.keys}, Now: time.Now, Log: a.log,
		Lifetimes: op.Lifetimes{
			AccessToken: cfg.AccessTokenLifetime, IDToken: cfg.IDTokenLifetime, Refresh: cfg.RefreshLifetime,
			Code: time.Minute, AuthRequest: 30 * time.Minute,
		},
	}
	var cryptoKey [32]byte
	copy(cryptoKey[:], a.master.Derive("oidc-token-crypto"))
	provider, err := op.NewProvider(op.Config{
		Issuer: cfg.Issuer, Insecure: cfg.insecureIssuer(), CryptoKey: cryptoKey, Dev: cfg.Dev,
		LoggedOutURL: strings.TrimSuffix(cfg.Issuer, "/") + "/logged-out",
	}, st)
	if err != nil {
		return nil, err
	}
	pages, err := web.Parse()
	if err != nil {
		return nil, err
	}
	mailer, err := a.mailer()
	if err != nil {
		return nil, err
	}
	lh := &login.Handler{
		Store: store, Provider: provider, Pages: pages, Log: a.log, Now: time.Now,
		Hasher: login.NewHasher(login.DefaultParams, 4, 2*time.Second),
		Sessions: &login.Sessions{
			Store: store, Cookies: login.Cookies{Secure: !cfg.insecureIssuer()},
			Idle: cfg.SessionIdle, Absolute: cfg.SessionAbsolute, Now: time.Now,
		},
		PasswordLockout:  storage.Lockout{Threshold: cfg.PasswordLockoutThreshold, Duration: cfg.PasswordLockoutDuration},
		MFALockout:       storage.Lockout{Threshold: cfg.MFALockoutThreshold, Duration: cfg.MFALockoutDuration},
		PasswordIPLimit:  cfg.PasswordIPLimit,
		PasswordIPWindow: cfg.PasswordIPWindow,
		Mailer:           mailer,
		Sealer:           a.master,
		CodeKey:          a.master.Derive(codeKeyPurpose),
		TOTPIssuer:       cfg.TOTPIssuer,
		Rand:             rand.Reader,
	}
	if cfg.GeoIPDB != "" {
		if lh.GeoIP, err = audit.OpenGeoIP(cfg.GeoIPDB); err != nil {
			return nil, fmt.Errorf("--geoip-db: %w", err)
		}
	}
	prefix := provider.Prefix()
	engine.Use(securityHeaders(prefix + provider.OP.TokenEndpoint().Relative()))
	engine.GET(prefix+"/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	engine.GET(prefix+"/readyz", a.ready)
	lh.Mount(engine)
	provider.Mount(engine)
	return engine, nil
}

// servedStore is the store the HTTP handlers use: a.store, unless a test
// wrapped it (env.wrapStore).
func (a *app) servedStore() storage.Store {
	if a.served != nil {
		return a.served
	}
	return a.store
}

// codeKeyPurpose derives the HMAC key for email and backup codes; the CLI's
// backup-code regeneration must use the same.
const codeKeyPurpose = "code-hmac"

// mailer sends over SMTP when --smtp-url is set; in --dev without it, to the
// log and <data-dir>/outbox. Outside dev an SMTP server is required.
func (a *app) mailer() (mail.Sender, error) {
	cfg := a.cfg
	if cfg.SMTPURL == "" {
		if !cfg.Dev {
			return nil, errors.New("--smtp-url is required outside --dev: StepGate emails one-time codes")
		}
		return mail.NewOutbox(cfg.DataDir, cfg.MailFrom, a.log), nil
	}
	sc, err := mail.ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %v", err)
	}
	if cfg.SMTPStartTLS != "" {
		sc.StartTLS = mail.StartTLS(cfg.SMTPStartTLS)
	}
	if sc.From == "" {
		sc.From = cfg.MailFrom
	}
	return mail.NewSMTP(sc)
}

// readyTimeout is /readyz's own bound, shorter than any prober's patience.
const readyTimeout = 3 * time.Second

// ready answers 200 only when the database answers and the schema is the
// one this binary expects; 503 otherwise, and within readyTimeout even when
// the database does not answer at all (the check runs on, bounded by the
// store's own timeout, but the probe is not kept waiting). It only reads.
func (a *app) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), readyTimeout)
	defer cancel()
	type verdict struct {
		body string // what the probe sees
		err  error  // what the log says
	}
	result := make(chan verdict, 1)
	go func() {
		if err := a.store.Ping(ctx); err != nil {
			result <- verdict{"database unreachable", err}
		} else if err := migrations.Check(ctx, a.store.DB(), a.store.Dialect()); err != nil {
			result <- verdict{"database schema not current", err}
		} else {
			result <- verdict{}
		}
	}()
	var v verdict
	select {
	case v = <-result:
	case <-ctx.Done():
		v = verdict{"database unreachable", fmt.Errorf("no answer within %s", readyTimeout)}
	}
	if v.err != nil {
		a.log.Warn("readiness: "+v.body, "err", v.err)
		c.String(http.StatusServiceUnavailable, v.body)
		return
	}
	c.String(http.StatusOK, "ready")
}

// cleanup deletes expired sessions, requests and tokens now and then.
func (a *app) cleanup(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		now := time.Now()
		if _, err := a.store.DeleteExpiredSessions(ctx, now, a.cfg.SessionIdle); err != nil && ctx.Err() == nil {
			a.log.Warn("cleanup sessions", "err", err)
		}
		if _, err := a.store.DeleteExpiredAuthRequests(ctx, now); err != nil && ctx.Err() == nil {
			a.log.Warn("cleanup auth requests", "err", err)
		}
		if _, err := a.store.DeleteExpiredTokens(ctx, now); err != nil && ctx.Err() == nil {
			a.log.Warn("cleanup tokens", "err", err)
		}
		// Every counter's window is over once the longest window has passed.
		longest := max(login.CodesWindow, a.cfg.PasswordIPWindow)
		if _, err := a.store.DeleteRateLimitsBefore(ctx, now.Add(-longest)); err != nil && ctx.Err() == nil {
			a.log.Warn("cleanup rate limits", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		// The path only: query strings carry codes and state.
		log.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration", time.Since(start))
	}
}

// keySource adapts keys.Manager to what the provider needs.
type keySource struct{ m *keys.Manager }

func (k keySource) ActiveSigningKey(ctx context.Context) (op.SigningKey, error) {
	sk, err := k.m.Active(ctx)
	if err != nil {
		return op.SigningKey{}, err
	}
	return op.SigningKey{ID: sk.ID, Algorithm: sk.Algorithm, Private: sk.Private}, nil
}

func (k keySource) PublishedKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	return k.m.Published(ctx)
}
