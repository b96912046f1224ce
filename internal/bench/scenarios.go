package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/stepgate/stepgate/login"
)

// Scopes the logins ask for.
const (
	loginScope   = "openid profile email"
	refreshScope = "openid offline_access"
)

// pacedShare is the share of the measured peak login rate at which the
// paced scenario runs.
const pacedShare = 0.8

// scenarios runs the figures of one report, in this order: the argon2id
// floor, the bare server, discovery and JWKS, full logins at peak,
// password-only logins, refresh grants, introspection, and full logins
// paced at 80 % of the peak. The paced logins come last so that the users
// the peak run logged in have a new TOTP step by then.
type scenarios struct {
	o      Options
	r      *Report
	fx     *fixture
	server *process // StepGate's; nil when unknown
	dir    string
	agent  *agent
	pool   *userPool
}

func (s *scenarios) run(ctx context.Context, issuer string) error {
	a := &agent{transport: newTransport(s.o.Concurrency)}
	s.agent = a
	s.pool = newUserPool(s.fx.users, time.Now)
	var discovery []byte
	var err error
	if a.ep, discovery, err = discover(ctx, a.plain(), issuer); err != nil {
		return fmt.Errorf("bench: %s: %w", issuer, err)
	}
	jwks, err := get(ctx, a.plain(), a.ep.JWKS)
	if err != nil {
		return fmt.Errorf("bench: JWKS: %w", err)
	}
	if jwks.status != http.StatusOK {
		return fmt.Errorf("bench: JWKS answered %d", jwks.status)
	}
	bareDir := filepath.Join(s.dir, "bare")
	if err := os.Mkdir(bareDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bareDir, bareDiscovery), discovery, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bareDir, bareJWKS), jwks.body, 0o600); err != nil {
		return err
	}
	s.progress("starting the bare net/http server")
	bare, err := startBare(ctx, s.o.Executable, bareDir)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer bare.stop()

	if err := s.floor(ctx); err != nil {
		return err
	}
	fetchOp := func(u string, want []byte) func(int) (operation, error) {
		return func(int) (operation, error) {
			c := a.plain()
			return func(ctx context.Context) ([]time.Duration, error) { return nil, fetch(ctx, c, u, want) }, nil
		}
	}
	for _, sc := range []struct {
		name, what, ratioTo string
		srv                 *process
		op                  func(int) (operation, error)
	}{
		{"bare_discovery", "bare net/http: discovery bytes", "", bare.proc, fetchOp(bare.url+"/discovery", discovery)},
		{"bare_jwks", "bare net/http: JWKS bytes", "", bare.proc, fetchOp(bare.url+"/jwks", jwks.body)},
		{"discovery", "discovery", "bare_discovery", s.server, fetchOp(issuer+"/.well-known/openid-configuration", discovery)},
		{"jwks", "JWKS", "bare_jwks", s.server, fetchOp(a.ep.JWKS, jwks.body)},
	} {
		if err := s.closed(ctx, sc.name, sc.what, sc.ratioTo, sc.srv, sc.op); err != nil {
			return err
		}
	}
	if err := s.fullLogins(ctx); err != nil {
		return err
	}
	if err := s.passwordLogins(ctx); err != nil {
		return err
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	if err := s.introspection(ctx); err != nil {
		return err
	}
	return s.pacedLogins(ctx)
}

func (s *scenarios) progress(format string, a ...any) {
	fmt.Fprintf(s.o.Progress, format+"\n", a...)
}

// closed runs one closed-loop scenario against srv and adds its figure.
func (s *scenarios) closed(ctx context.Context, name, what, ratioTo string, srv *process,
	op func(int) (operation, error), stepNames ...string) error {
	s.progress("%s: %d virtual users, %s", what, s.o.Concurrency, s.o.Duration)
	m, err := closedLoop(ctx, srv, s.o.Concurrency, s.o.Warmup, s.o.Duration, op)
	if err := ctx.Err(); err != nil {
		return err
	}
	f := Figure{}
	if err != nil {
		f = failed(name, what, err)
	} else {
		f = figure(name, what, m, stepNames...)
	}
	f.RatioTo = ratioTo
	s.r.Figures = append(s.r.Figures, f)
	return nil
}

// floor is argon2id verifications per second with the server's parameters
// (login.DefaultParams), through login.Hasher as the password check makes
// them, on every core at once: what a login cannot be cheaper than. Its CPU
// time is this process's own; the servers are idle meanwhile.
func (s *scenarios) floor(ctx context.Context) error {
	p := login.DefaultParams
	workers := runtime.GOMAXPROCS(0)
	what := fmt.Sprintf("argon2id floor (m=%d KiB, t=%d, p=%d; %d at once)", p.Memory, p.Time, p.Threads, workers)
	s.progress("%s, %s", what, s.o.Duration)
	h := login.NewHasher(p, workers, time.Minute)
	const password = "the argon2id floor"
	phc, err := h.Hash(ctx, password)
	if err != nil {
		return err
	}
	self, _ := openProcess(os.Getpid())
	m, err := closedLoop(ctx, self, workers, s.o.Warmup, s.o.Duration, func(int) (operation, error) {
		return func(ctx context.Context) ([]time.Duration, error) {
			ok, _, err := h.Verify(ctx, phc, password)
			if err == nil && !ok {
				err = errors.New("the password did not verify")
			}
			return nil, err
		}, nil
	})
	if err != nil {
		return err
	}
	f := figure("argon2id_floor", what, m)
	f.PeakRSSMiB = nil // the benchmark's own, not a server's
	f.Note = "CPU time is the benchmark process's own"
	s.r.Figures = append(s.r.Figures, f)
	return nil
}

// fullLogin is one whole browser login with TOTP, for the next user the
// pool gives out.
func (s *scenarios) fullLogin(ctx context.Context) ([]time.Duration, error) {
	i, err := s.pool.take()
	if err != nil {
		return nil, err
	}
	defer s.pool.release(i)
	_, steps, err := s.agent.login(ctx, s.fx.otpApp, loginScope, s.fx.users[i].email, s.fx.password,
		func() string { return s.pool.code(i) })
	return steps, err
}

var fullLoginSteps = []string{"authorize→password page", "password→TOTP page", "TOTP→redirect with code", "token"}

func (s *scenarios) fullLogins(ctx context.Context) error {
	err := s.closed(ctx, "full_login", "full login (authorize → password → TOTP → code → token)", "argon2id_floor",
		s.server, func(int) (operation, error) { return s.fullLogin, nil }, fullLoginSteps...)
	s.noteUsers(s.r.Figure("full_login"))
	return err
}

// noteUsers says in a login figure how its users were chosen.
func (s *scenarios) noteUsers(f *Figure) {
	if f == nil {
		return
	}
	note := fmt.Sprintf("a distinct user for each login within a 30-second TOTP step (the server accepts a step "+
		"once per user); %d users seeded, %d logins handed out so far", len(s.fx.users), s.pool.used)
	if f.Note != "" {
		note += "; " + f.Note
	}
	f.Note = note
}

func (s *scenarios) passwordLogins(ctx context.Context) error {
	var next atomic.Int64
	op := func(ctx context.Context) ([]time.Duration, error) {
		u := s.fx.users[int(next.Add(1)-1)%len(s.fx.users)]
		_, steps, err := s.agent.login(ctx, s.fx.pwdApp, loginScope, u.email, s.fx.password, nil)
		return steps, err
	}
	return s.closed(ctx, "password_login", "password-only login (authorize → password → code → token)", "argon2id_floor",
		s.server, func(int) (operation, error) { return op, nil }, "authorize→password page", "password→redirect with code", "token")
}

// refresh: each virtual user signs in once with offline_access (before the
// window), then rotates its refresh token again and again; each grant
// must return a new refresh token and a new ID token.
func (s *scenarios) refresh(ctx context.Context) error {
	signIn := func(ctx context.Context, worker int) (string, error) {
		u := s.fx.users[worker%len(s.fx.users)]
		tk, _, err := s.agent.login(ctx, s.fx.pwdApp, refreshScope, u.email, s.fx.password, nil)
		if err != nil {
			return "", fmt.Errorf("signing in for a refresh token: %w", err)
		}
		if tk.RefreshToken == "" {
			return "", errors.New("no refresh token for scope offline_access")
		}
		return tk.RefreshToken, nil
	}
	return s.closed(ctx, "refresh", "refresh grant (rotation, new ID token)", "", s.server, func(worker int) (operation, error) {
		current, err := signIn(ctx, worker)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context) ([]time.Duration, error) {
			tk, err := s.agent.token(ctx, s.fx.pwdApp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current}})
			if err != nil {
				// The family may be revoked now: start a new one.
				if again, lerr := signIn(ctx, worker); lerr == nil {
					current = again
				}
				return nil, err
			}
			current = tk.RefreshToken
			return nil, nil
		}, nil
	})
}

// introspection: one access token, asked about by the introspection
// application (a resource server) again and again.
func (s *scenarios) introspection(ctx context.Context) error {
	const name, what = "introspection", "introspection of an active access token"
	u := s.fx.users[0]
	tk, _, err := s.agent.login(ctx, s.fx.pwdApp, loginScope, u.email, s.fx.password, nil)
	if err != nil {
		s.r.Figures = append(s.r.Figures, failed(name, what, fmt.Errorf("signing in for an access token: %w", err)))
		return ctx.Err()
	}
	return s.closed(ctx, name, what, "", s.server, func(int) (operation, error) {
		return func(ctx context.Context) ([]time.Duration, error) {
			return nil, s.agent.introspect(ctx, s.fx.introApp, tk.AccessToken)
		}, nil
	})
}

// pacedLogins runs full logins open-loop at 80 % of the peak rate the
// full-login scenario measured.
func (s *scenarios) pacedLogins(ctx context.Context) error {
	const name = "full_login_paced"
	what := fmt.Sprintf("full login paced at %.0f %% of the peak rate", pacedShare*100)
	peak := s.r.Figure("full_login")
	if peak == nil || peak.PerSecond <= 0 {
		s.r.Figures = append(s.r.Figures, failed(name, what, errors.New("no peak login rate was measured to pace at")))
		return nil
	}
	rate := pacedShare * peak.PerSecond
	s.progress("%s: %.1f logins/s, %s", what, rate, s.o.Duration)
	m, err := paced(ctx, s.server, rate, s.o.Warmup, s.o.Duration, max(32, 4*s.o.Concurrency), s.fullLogin)
	if err != nil {
		return err
	}
	f := figure(name, what, m, fullLoginSteps...)
	f.TargetPerSecond = ptr(rate)
	f.RatioTo = "full_login"
	s.r.Figures = append(s.r.Figures, f)
	s.noteUsers(s.r.Figure(name))
	return nil
}
