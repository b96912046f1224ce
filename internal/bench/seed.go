package bench

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// RedirectURI is where the benchmark's applications are redirected: a port
// nothing listens on, as the browser stops at the redirect and reads the
// code from it.
const RedirectURI = "http://127.0.0.1:9/callback"

// Sealer seals TOTP secrets as the server opens them: the master key.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
}

// seedBatch is how many users one transaction creates.
const seedBatch = 100

// seedUser is a seeded account and its authenticator's secret.
type seedUser struct {
	email  string
	secret []byte
}

// fixture is what the benchmark seeded: the users (all with the same
// password), and three applications: one with OTP on, one that asks only
// for the password, and one that introspects tokens (a resource server).
type fixture struct {
	password string
	users    []seedUser
	otpApp   app
	pwdApp   app
	introApp app
}

// seed creates n users with a confirmed TOTP binding each, directly in the
// store: in transactions of seedBatch users, workers of them at once, all
// with one argon2id hash of the same password under the server's
// parameters, each with a secret of its own sealed under the master key as
// the login seals it. The applications are created through the admin core,
// as `stepgate client create` does. Emails carry run, so several runs can
// seed one database.
func seed(ctx context.Context, st storage.Store, sealer Sealer, svc *admin.Service, actor admin.Actor,
	n, workers int, run string, progress io.Writer) (*fixture, error) {
	fx := &fixture{password: "bench-" + randomHex() + randomHex(), users: make([]seedUser, n)}
	hash, err := login.NewHasher(login.DefaultParams, 1, 0).Hash(ctx, fx.password)
	if err != nil {
		return nil, err
	}
	// Batches are handed to the workers in order; the first error stops
	// them all.
	batches := make(chan int)
	var (
		done      atomic.Int64
		mu        sync.Mutex
		firstErr  error
		lastShown = time.Now()
		wg        sync.WaitGroup
	)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range batches {
				hi := min(lo+seedBatch, n)
				err := seedUsers(sctx, st, sealer, hash, fx.users[lo:hi], lo, run)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if d := done.Add(int64(hi - lo)); err == nil && time.Since(lastShown) > 5*time.Second {
					fmt.Fprintf(progress, "  … %d of %d users\n", d, n)
					lastShown = time.Now()
				}
				mu.Unlock()
			}
		}()
	}
	for lo := 0; lo < n && sctx.Err() == nil; lo += seedBatch {
		batches <- lo
	}
	close(batches)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return nil, fmt.Errorf("seeding users: %w", firstErr)
	}
	for _, a := range []struct {
		to   *app
		name string
		otp  bool
	}{{&fx.otpApp, "OTP", true}, {&fx.pwdApp, "password only", false}, {&fx.introApp, "introspection", false}} {
		c, err := svc.CreateClient(ctx, actor, admin.CreateClientInput{Name: "bench " + run + " " + a.name,
			RedirectURIs: []string{RedirectURI}, OTP: a.otp})
		if err != nil {
			return nil, fmt.Errorf("creating the %s application: %w", a.name, err)
		}
		*a.to = app{id: c.Client.ID, secret: c.Secret, redirectURI: RedirectURI}
	}
	return fx, nil
}

// seedUsers creates the users of one batch, users[i] being user first+i,
// in one transaction.
func seedUsers(ctx context.Context, st storage.Store, sealer Sealer, hash string, users []seedUser, first int, run string) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return st.InTx(ctx, func(tx storage.Store) error {
		for i := range users {
			secret, err := mfa.GenerateTOTPSecret(rand.Reader)
			if err != nil {
				return err
			}
			u := &storage.User{ID: op.NewID(), Email: fmt.Sprintf("bench-%s-%d@example.com", run, first+i),
				Name: fmt.Sprintf("Bench User %d", first+i), Role: storage.RoleMember, PasswordHash: hash,
				CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			sealed, err := sealer.Seal(secret, login.TOTPAAD(u.ID))
			if err != nil {
				return err
			}
			b := &storage.FactorBinding{ID: op.NewID(), UserID: u.ID, Kind: storage.FactorTOTP, SealedSecret: sealed, CreatedAt: now}
			if err := tx.PutPendingFactor(ctx, b); err != nil {
				return err
			}
			// Step 0: any real code's step is later.
			if err := tx.ConfirmFactor(ctx, b.ID, now, 0); err != nil {
				return err
			}
			users[i] = seedUser{email: u.Email, secret: secret}
		}
		return nil
	})
}

// totpCode is the code an authenticator app shows for secret at t (RFC
// 6238 as StepGate binds it: SHA-1, six digits, 30 s), computed by
// pquerna/otp rather than by StepGate's own code.
func totpCode(secret []byte, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret), t,
		totp.ValidateOpts{Period: uint(mfa.TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// userPool hands out seeded users to TOTP logins. The server accepts each
// TOTP step once per user (the replay guard), so a user completes at most
// one TOTP login per 30-second step: take gives the next user that has no
// login in progress and whose last code was for an earlier step, and
// errExhausted when every user has had one in the current step. The
// scenario then ends there rather than wait for the next step, and says so.
type userPool struct {
	mu    sync.Mutex
	users []seedUser
	last  []int64 // TOTP step of each user's last code; -1 for none
	busy  []bool
	next  int
	used  int // users taken so far, for the report
	// now is the clock the codes are made at: the server's, which is the
	// system's.
	now func() time.Time
}

func newUserPool(users []seedUser, now func() time.Time) *userPool {
	p := &userPool{users: users, last: make([]int64, len(users)), busy: make([]bool, len(users)), now: now}
	for i := range p.last {
		p.last[i] = -1
	}
	return p
}

func step(t time.Time) int64 { return t.Unix() / int64(mfa.TOTPPeriod/time.Second) }

func (p *userPool) take() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := step(p.now())
	for k := range p.users {
		i := (p.next + k) % len(p.users)
		if !p.busy[i] && p.last[i] < now {
			p.busy[i] = true
			p.next = i + 1
			p.used++
			return i, nil
		}
	}
	return 0, errExhausted
}

// code is user i's code at this moment; its step is then taken.
func (p *userPool) code(i int) string {
	now := p.now()
	c, err := totpCode(p.users[i].secret, now)
	if err != nil {
		return "" // the server then refuses the code, and the report shows it
	}
	p.mu.Lock()
	p.last[i] = max(p.last[i], step(now))
	p.mu.Unlock()
	return c
}

func (p *userPool) release(i int) {
	p.mu.Lock()
	p.busy[i] = false
	p.mu.Unlock()
}
