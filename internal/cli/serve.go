package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/server"
	"github.com/stepgate/stepgate/storage"
)

// serveCmd runs the server; its help shows every setting.
type serveCmd struct{}

func (c *serveCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := open(ctx, cfg, log, *cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer a.close()
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	a.keys.Now = now
	var served storage.Store = a.store
	if e.wrapStore != nil {
		served = e.wrapStore(a.store)
		a.keys.Store = served
	}
	if err := a.keys.EnsureKey(ctx); err != nil {
		return err
	}
	if cfg.Dev {
		if err := devBootstrap(ctx, a, e); err != nil {
			return err
		}
	}
	// The console signs in through StepGate like any application, as its
	// own client.
	svc, _ := adminService(a, e)
	if err := svc.EnsureConsoleClient(ctx, cfg.Issuer); err != nil {
		return fmt.Errorf("console client: %w", err)
	}
	mailer, err := a.mailer()
	if err != nil {
		return err
	}
	var geoIP *audit.GeoIP
	if cfg.GeoIPDB != "" {
		if geoIP, err = audit.OpenGeoIP(cfg.GeoIPDB); err != nil {
			return fmt.Errorf("--geoip-db: %w", err)
		}
	}
	handler, err := server.New(server.Deps{
		Config: cfg.server(), Store: served, Database: a.store, Keys: a.keys, Master: a.master,
		Mailer: mailer, GeoIP: geoIP, Log: log, Now: now,
	})
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
	// The metrics listener, when asked for, is a server of its own: its
	// routes are never on the main listener.
	var msrv *http.Server
	var mln net.Listener
	if cfg.MetricsListen != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-listen: %w", err)
		}
		msrv = &http.Server{
			Handler:           handler.MetricsHandler(cfg.Pprof),
			ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout:      30 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          srv.ErrorLog,
		}
		if cfg.Pprof {
			msrv.WriteTimeout = 0 // a CPU profile or trace takes as long as it is asked to
		}
		log.Info("metrics are listening", "addr", mln.Addr().String(), "pprof", cfg.Pprof)
	}
	log.Info("StepGate is listening", "issuer", cfg.Issuer, "addr", ln.Addr().String(),
		"database", redactURL(cfg.Database), "version", version)
	fmt.Fprintf(e.stdout, "StepGate issuer: %s\n", cfg.Issuer)

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if msrv != nil {
		go func() { errc <- msrv.Serve(mln) }()
		// A scrape or profile in progress is cut off at shutdown, not waited for.
		defer msrv.Close()
	}
	go handler.Cleanup(ctx)
	select {
	case err := <-errc: // a listener failed: no server goes on without the other
		srv.Close()
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

// server is the part of the configuration the HTTP server reads.
func (c *Config) server() server.Config {
	return server.Config{
		Issuer: c.Issuer, Dev: c.Dev, TrustedProxies: c.TrustedProxies,
		AccessTokenLifetime: c.AccessTokenLifetime, IDTokenLifetime: c.IDTokenLifetime,
		RefreshLifetime: c.RefreshLifetime, SessionIdle: c.SessionIdle, SessionAbsolute: c.SessionAbsolute,
		TOTPIssuer:       c.TOTPIssuer,
		MFALockout:       storage.Lockout{Threshold: c.MFALockoutThreshold, Duration: c.MFALockoutDuration},
		PasswordLockout:  storage.Lockout{Threshold: c.PasswordLockoutThreshold, Duration: c.PasswordLockoutDuration},
		PasswordIPLimit:  c.PasswordIPLimit,
		PasswordIPWindow: c.PasswordIPWindow,
	}
}

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
