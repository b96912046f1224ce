package cli

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// auditOf reads the audit trail of the server's database, newest first.
func (s *testServer) auditOf(f storage.AuditFilter) []storage.AuditEvent {
	s.t.Helper()
	st, err := sqlstore.Open(context.Background(), s.database())
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.ListAudit(context.Background(), f)
	if err != nil {
		s.t.Fatal(err)
	}
	return evs
}

func (s *testServer) database() string {
	for i, a := range s.args {
		if a == "--database" {
			return s.args[i+1]
		}
	}
	s.t.Fatal("no --database")
	return ""
}

func countReasons(evs []storage.AuditEvent, typ string) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		if e.Type == typ {
			m[e.Result+"/"+e.Reason]++
		}
	}
	return m
}

func TestLockout(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, smtp := mfaSetup(t, database, "--password-ip-limit", "0")
			seen := 0

			// Bind an authenticator (also creates backup codes), then offer
			// both factors.
			srv.cli("", "client", "set-factors", r.conf.ClientID, "--otp=on", "--email=on")
			b := newBrowser(t, redirectURI)
			f := r.start()
			p := passwordStep(t, b, f)
			p = b.get(strings.Replace(p.url.String(), "/login/factor", "/login/totp/setup", 1))
			secret, _ := bindTOTP(t, srv, b, smtp, &seen, p)

			t.Run("the sixth wrong code of mixed factors locks; a correct code is then refused; unlock lifts it", func(t *testing.T) {
				b := newBrowser(t, redirectURI)
				f := r.start()
				factor := passwordStep(t, b, f)
				base := factor.url.String()
				wrong := func(tab, code string) page {
					p := b.get(base + "&tab=" + tab)
					if tab == "email" && strings.Contains(p.body, "Send code") {
						p = b.submit(p, nil)
						emailedCode(t, smtp, &seen)
					}
					return b.submit(p, map[string]string{"code": code})
				}
				bad := mfa.TOTPCode(secret, srv.clock.Now().Add(-10*time.Minute))
				steps := []struct{ tab, code string }{
					{"otp", bad}, {"email", "000001"}, {"backup_code", "AAAA-AAAA-AAAA-AAAA"},
					{"otp", bad}, {"email", "000002"}, {"backup_code", "BBBB-BBBB-BBBB-BBBB"},
				}
				var p page
				for i, s := range steps {
					p = wrong(s.tab, s.code)
					if i < len(steps)-1 && !p.refused("The code is not valid.") {
						t.Fatalf("attempt %d (%s) answered %d after %d", i+1, s.tab, p.status, p.from)
					}
				}
				// The sixth too is evaluated; it fails, sets the lock and
				// says until when (computed from the lock end).
				if !p.refused("locked until ") || !strings.Contains(p.body, " UTC, about 1 hour") {
					t.Fatalf("the locking attempt answered %d after %d:\n%s", p.status, p.from, p.body)
				}
				// A reload of that page counts nothing.
				failures := len(srv.auditOf(storage.AuditFilter{Result: storage.ResultFailure}))
				if again := b.get(p.url.String()); !strings.Contains(again.body, "locked until ") ||
					len(srv.auditOf(storage.AuditFilter{Result: storage.ResultFailure})) != failures {
					t.Fatalf("reload of the lock page: %d, or it counted another failure", again.status)
				}
				locks := srv.auditOf(storage.AuditFilter{Type: mfa.EventAccountLocked})
				if len(locks) != 1 {
					t.Fatalf("%d lock events, want 1", len(locks))
				}
				// A locked user is offered no code form and no "send code",
				// but a way back to the application.
				for _, tab := range []string{"otp", "email", "backup_code"} {
					lp := b.get(base + "&tab=" + tab)
					if strings.Contains(lp.body, "Send code") || strings.Contains(lp.body, "Send a new code") ||
						strings.Contains(lp.body, `name="code"`) || !strings.Contains(lp.body, "/login/cancel") {
						t.Fatalf("locked %s tab offers a code form or no way back:\n%s", tab, lp.body)
					}
				}
				// T+1: a valid code whose step the binding has not used,
				// posted directly: refused, counted as locked.
				srv.awayFromStepEdge()
				next := mfa.TOTPCode(secret, srv.clock.Now().Add(30*time.Second))
				lp := b.get(base + "&tab=otp")
				form := url.Values{"code": {next}}
				for _, h := range hiddenField.FindAllStringSubmatch(lp.body, -1) {
					form.Set(h[1], unescapeHTML(h[2]))
				}
				target, _ := lp.url.Parse("/login/otp")
				if p := b.post(target.String(), form); !p.refused("locked until ") {
					t.Fatalf("correct code while locked answered %d after %d", p.status, p.from)
				}
				// "send code" while locked is refused without a mail.
				mails := len(smtp.Messages())
				target, _ = lp.url.Parse("/login/email/send")
				if p := b.post(target.String(), form); !p.refused("locked until ") || len(smtp.Messages()) != mails {
					t.Fatalf("send while locked answered %d after %d, %d mails", p.status, p.from, len(smtp.Messages())-mails)
				}
				reasons := countReasons(srv.auditOf(storage.AuditFilter{}), mfa.EventOTP)
				if reasons["failure/locked"] != 1 || reasons["failure/wrong_code"] != 2 {
					t.Errorf("OTP audit reasons = %v", reasons)
				}
				if got := countReasons(srv.auditOf(storage.AuditFilter{}), mfa.EventBackupCode); got["failure/wrong_code"] != 2 {
					t.Errorf("backup audit reasons = %v", got)
				}
				srv.cli("", "user", "unlock", testEmail)
				if n := len(srv.auditOf(storage.AuditFilter{Type: mfa.EventAccountUnlocked})); n != 1 {
					t.Errorf("%d unlock events", n)
				}
				// The code above was refused unevaluated, so its step is
				// still free.
				p = b.get(base + "&tab=otp")
				q := r.callback(f, b.submit(p, map[string]string{"code": next}))
				if q.Get("code") == "" {
					t.Fatalf("after unlock: %v", q)
				}
			})

			t.Run("50 parallel wrong codes from different sessions evaluate at most 6", func(t *testing.T) {
				srv.cli("", "user", "unlock", testEmail)
				srv.cli("", "client", "set-factors", r.conf.ClientID, "--otp=off", "--email=on", "--confirm-remove-bindings")
				servers := []*testServer{srv}
				if name == "postgres" {
					// A second StepGate process on the same database.
					second := &testServer{t: t, logs: &syncBuffer{}, dataDir: srv.dataDir, clock: srv.clock}
					addr := freePort(t)
					second.issuer = "http://" + addr
					second.args = append([]string{}, srv.args...)
					for i, a := range second.args {
						if a == "--listen" || a == "--issuer" {
							second.args[i+1] = map[string]string{"--listen": addr, "--issuer": second.issuer}[a]
						}
					}
					second.start()
					servers = append(servers, second)
				}
				before := countReasons(srv.auditOf(storage.AuditFilter{}), mfa.EventEmail)
				type attempt struct {
					b *browser
					p page
				}
				attempts := make([]attempt, 50)
				for i := range attempts {
					s := servers[i%len(servers)]
					rp := newRP(t, s, createdClient{ClientID: r.conf.ClientID, ClientSecret: r.conf.ClientSecret})
					b := newBrowser(t, redirectURI)
					f := rp.start()
					p := passwordStep(t, b, f)
					if !strings.Contains(p.body, "Email code") && !strings.Contains(p.body, "email") {
						t.Fatalf("session %d not on the factor page: %d", i, p.status)
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
						form := url.Values{"code": {"123456"}}
						for _, h := range hiddenField.FindAllStringSubmatch(a.p.body, -1) {
							form.Set(h[1], unescapeHTML(h[2]))
						}
						target, _ := a.p.url.Parse("/login/email")
						statuses[i] = a.b.post(target.String(), form).status
					}()
				}
				wg.Wait()
				after := countReasons(srv.auditOf(storage.AuditFilter{}), mfa.EventEmail)
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
				dir := t.TempDir()
				s := startServer(t, database(t, dir), dir, "--password-ip-limit", "3", "--password-ip-window", "1m")
				c := s.createClient("--name", "App", "--redirect-uri", redirectURI)
				rp := newRP(t, s, c)
				b := newBrowser(t, redirectURI)
				var last page
				for i := 0; i < 4; i++ {
					f := rp.start()
					last = b.submit(b.get(f.authURL), map[string]string{"email": "x@example.com", "password": "nope"})
				}
				if last.status != http.StatusTooManyRequests {
					t.Fatalf("fourth attempt answered %d", last.status)
				}
				if got := countReasons(s.auditOf(storage.AuditFilter{}), mfa.EventPassword); got["failure/rate_limited"] != 1 {
					t.Errorf("password audit = %v", got)
				}
			})
		})
	}
}
