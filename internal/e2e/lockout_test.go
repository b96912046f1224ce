package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func TestLockout(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, mail := mfaSetup(t, eng, "--password-ip-limit", "0")

			// Bind an authenticator (also creates backup codes), then offer
			// both factors.
			srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=on", "--email=on")
			b := e2e.NewBrowser(t, redirectURI)
			f := r.Start()
			p := passwordStep(t, b, f)
			p = b.Get(strings.Replace(p.URL.String(), "/login/factor", "/login/totp/setup", 1))
			secret, _ := bindTOTP(t, srv, b, testEmail, p)

			t.Run("the sixth wrong code of mixed factors locks; a correct code is then refused; unlock lifts it", func(t *testing.T) {
				b := e2e.NewBrowser(t, redirectURI)
				f := r.Start()
				factor := passwordStep(t, b, f)
				base := factor.URL.String()
				wrong := func(tab, code string) *e2e.Page {
					p := b.Get(base + "&tab=" + tab)
					if tab == "email" && p.HasForm(e2e.WithButton("Send code")) {
						p = p.Form(e2e.WithButton("Send code")).Submit()
						mail.Code(testEmail)
					}
					return b.Submit(p, map[string]string{"code": code})
				}
				bad := mfa.TOTPCode(secret, srv.Clock.Now().Add(-10*time.Minute))
				steps := []struct{ tab, code string }{
					{"otp", bad}, {"email", "000001"}, {"backup_code", "AAAA-AAAA-AAAA-AAAA"},
					{"otp", bad}, {"email", "000002"}, {"backup_code", "BBBB-BBBB-BBBB-BBBB"},
				}
				var p *e2e.Page
				for i, s := range steps {
					p = wrong(s.tab, s.code)
					if i < len(steps)-1 && !p.Refused("The code is not valid.") {
						t.Fatalf("attempt %d (%s) answered %d after %d", i+1, s.tab, p.Status, p.From)
					}
				}
				// The sixth too is evaluated; it fails, sets the lock and
				// says until when (computed from the lock end).
				if !p.Refused("locked until ") || !strings.Contains(p.Body, " UTC, about 1 hour") {
					t.Fatalf("the locking attempt answered %d after %d:\n%s", p.Status, p.From, p.Body)
				}
				// A reload of that page counts nothing.
				failures := len(srv.Audit(storage.AuditFilter{Result: storage.ResultFailure}))
				if again := b.Get(p.URL.String()); !strings.Contains(again.Body, "locked until ") ||
					len(srv.Audit(storage.AuditFilter{Result: storage.ResultFailure})) != failures {
					t.Fatalf("reload of the lock page: %d, or it counted another failure", again.Status)
				}
				locks := srv.Audit(storage.AuditFilter{Type: mfa.EventAccountLocked})
				if len(locks) != 1 {
					t.Fatalf("%d lock events, want 1", len(locks))
				}
				// A locked user is offered no code form and no "send code",
				// but a way back to the application.
				for _, tab := range []string{"otp", "email", "backup_code"} {
					lp := b.Get(base + "&tab=" + tab)
					if strings.Contains(lp.Body, "Send code") || strings.Contains(lp.Body, "Send a new code") ||
						strings.Contains(lp.Body, `name="code"`) || !strings.Contains(lp.Body, "/login/cancel") {
						t.Fatalf("locked %s tab offers a code form or no way back:\n%s", tab, lp.Body)
					}
				}
				// T+1: a valid code whose step the binding has not used,
				// posted directly: refused, counted as locked.
				srv.AwayFromStepEdge()
				next := mfa.TOTPCode(secret, srv.Clock.Now().Add(30*time.Second))
				lp := b.Get(base + "&tab=otp")
				form := formFields(lp) // the locked page's only form: cancel
				form.Set("code", next)
				target, _ := lp.URL.Parse("/login/otp")
				if p := b.Post(target.String(), form); !p.Refused("locked until ") {
					t.Fatalf("correct code while locked answered %d after %d", p.Status, p.From)
				}
				// "send code" while locked is refused without a mail.
				mails := len(mail.Messages())
				target, _ = lp.URL.Parse("/login/email/send")
				if p := b.Post(target.String(), form); !p.Refused("locked until ") || len(mail.Messages()) != mails {
					t.Fatalf("send while locked answered %d after %d, %d mails", p.Status, p.From, len(mail.Messages())-mails)
				}
				reasons := countReasons(srv.Audit(storage.AuditFilter{}), mfa.EventOTP)
				if reasons["failure/locked"] != 1 || reasons["failure/wrong_code"] != 2 {
					t.Errorf("OTP audit reasons = %v", reasons)
				}
				if got := countReasons(srv.Audit(storage.AuditFilter{}), mfa.EventBackupCode); got["failure/wrong_code"] != 2 {
					t.Errorf("backup audit reasons = %v", got)
				}
				srv.CLI("user", "unlock", testEmail)
				if n := len(srv.Audit(storage.AuditFilter{Type: mfa.EventAccountUnlocked})); n != 1 {
					t.Errorf("%d unlock events", n)
				}
				// The code above was refused unevaluated, so its step is
				// still free.
				p = b.Get(base + "&tab=otp")
				q := r.Callback(f, b.Submit(p, map[string]string{"code": next}))
				if q.Get("code") == "" {
					t.Fatalf("after unlock: %v", q)
				}
			})

			t.Run("50 parallel wrong codes from different sessions evaluate at most 6", func(t *testing.T) {
				srv.CLI("user", "unlock", testEmail)
				srv.CLI("client", "set-factors", r.Config.ClientID, "--otp=off", "--email=on", "--confirm-remove-bindings")
				servers := []*e2e.Server{srv}
				if eng.Postgres() {
					servers = append(servers, srv.Replica()) // a second StepGate process on the same database
				}
				before := countReasons(srv.Audit(storage.AuditFilter{}), mfa.EventEmail)
				type attempt struct {
					b *e2e.Browser
					p *e2e.Page
				}
				attempts := make([]attempt, 50)
				for i := range attempts {
					s := servers[i%len(servers)]
					rp := e2e.NewRP(t, s, e2e.Client{ClientID: r.Config.ClientID, ClientSecret: r.Config.ClientSecret})
					b := e2e.NewBrowser(t, redirectURI)
					f := rp.Start()
					p := passwordStep(t, b, f)
					if !strings.Contains(p.Body, "Email code") && !strings.Contains(p.Body, "email") {
						t.Fatalf("session %d not on the factor page: %d", i, p.Status)
					}
					attempts[i] = attempt{b, p}
				}
				var wg sync.WaitGroup
				statuses := make([]int, len(attempts))
				for i, a := range attempts {
					wg.Add(1)
					go func() {
						defer wg.Done()
						// Straight to the code form: no code was sent, so each
						// attempt fails (no_code) if it is evaluated at all.
						form := formFields(a.p)
						form.Set("code", "123456")
						target, _ := a.p.URL.Parse("/login/email")
						statuses[i] = a.b.Post(target.String(), form).Status
					}()
				}
				wg.Wait()
				after := countReasons(srv.Audit(storage.AuditFilter{}), mfa.EventEmail)
				evaluated := 0
				for k, n := range after {
					if k != "failure/locked" && strings.HasPrefix(k, "failure/") {
						evaluated += n - before[k]
					}
				}
				locked := after["failure/locked"] - before["failure/locked"]
				if evaluated > 6 || evaluated+locked != 50 {
					t.Fatalf("%d attempts evaluated and %d refused as locked (statuses %v)", evaluated, locked, statuses)
				}
			})

			t.Run("password attempts per IP are rate limited", func(t *testing.T) {
				s := e2e.Start(t, e2e.Options{Engine: eng, Args: []string{"--password-ip-limit", "3", "--password-ip-window", "1m"}})
				c := s.CreateClient("--name", "App", "--redirect-uri", redirectURI)
				rp := e2e.NewRP(t, s, c)
				b := e2e.NewBrowser(t, redirectURI)
				var last *e2e.Page
				for i := 0; i < 4; i++ {
					f := rp.Start()
					last = b.Submit(b.Get(f.AuthURL), map[string]string{"email": "x@example.com", "password": "nope"})
				}
				if last.Status != http.StatusTooManyRequests {
					t.Fatalf("fourth attempt answered %d", last.Status)
				}
				if got := countReasons(s.Audit(storage.AuditFilter{}), mfa.EventPassword); got["failure/rate_limited"] != 1 {
					t.Errorf("password audit = %v", got)
				}
			})
		})
	}
}
