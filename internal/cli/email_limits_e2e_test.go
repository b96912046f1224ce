package cli

import (
	"strings"
	"sync"
	"testing"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// replica starts a second StepGate process on the same database as s, as
// a second replica behind a load balancer would be.
func (s *testServer) replica() *testServer {
	s.t.Helper()
	second := &testServer{t: s.t, logs: &syncBuffer{}, dataDir: s.dataDir, clock: s.clock}
	addr := freePort(s.t)
	second.issuer = "http://" + addr
	second.args = append([]string{}, s.args...)
	for i, a := range second.args {
		if a == "--listen" || a == "--issuer" {
			second.args[i+1] = map[string]string{"--listen": addr, "--issuer": second.issuer}[a]
		}
	}
	second.start()
	return second
}

// TestEmailCodeLimitsHoldUnderParallelSends: the 60 s spacing per login
// and the hourly limit per user are each decided by one statement, so
// parallel requests (on PostgreSQL, spread over two replicas) cannot pass
// them together.
func TestEmailCodeLimitsHoldUnderParallelSends(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, r, smtp := mfaSetup(t, database, "--password-ip-limit", "0")
			srv.cli("", "client", "set-factors", r.conf.ClientID, "--email=on")
			rps := []*rp{r}
			if name == "postgres" {
				rps = append(rps, newRP(t, srv.replica(), createdClient{ClientID: r.conf.ClientID, ClientSecret: r.conf.ClientSecret}))
			}
			type login struct {
				b    *browser
				p    page
				send string
			}
			// start opens a login on replica i and returns it on the email
			// tab, before any code was sent.
			start := func(i int) login {
				rp := rps[i%len(rps)]
				b := newBrowser(t, redirectURI)
				p := passwordStep(t, b, rp.start())
				if !strings.Contains(p.body, "Send code") {
					t.Fatalf("not on the email tab: %d %s", p.status, p.url)
				}
				return login{b, p, rp.srv.issuer + "/login/email/send"}
			}
			burst := func(logins []login, perLogin int) {
				var wg sync.WaitGroup
				for _, l := range logins {
					for j := 0; j < perLogin; j++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							l.b.post(l.send, formFields(l.p))
						}()
					}
				}
				wg.Wait()
			}

			t.Run("20 parallel sends for one login send exactly one email", func(t *testing.T) {
				before := len(smtp.Messages())
				l := start(0)
				// The same login, through each replica.
				logins := []login{l}
				for i := 1; i < len(rps); i++ {
					logins = append(logins, login{l.b, l.p, rps[i].srv.issuer + "/login/email/send"})
				}
				burst(logins, 20/len(logins))
				if n := len(smtp.Messages()) - before; n != 1 {
					t.Fatalf("%d emails for 20 parallel sends of one login", n)
				}
				if got := countReasons(srv.auditOf(storage.AuditFilter{}), mfa.EventEmailSend); got["failure/rate_limited"] != 19 {
					t.Errorf("refused sends audited as %s: %v, want 19 failure/rate_limited", mfa.EventEmailSend, got)
				}
			})

			t.Run("parallel sends across logins of one user never exceed 5 per hour", func(t *testing.T) {
				before := len(smtp.Messages())
				var logins []login
				for i := 0; i < 12; i++ {
					logins = append(logins, start(i))
				}
				burst(logins, 2)
				// One code was sent in the subtest above, in this hour.
				if n := len(smtp.Messages()) - before; n != 4 {
					t.Fatalf("%d emails for one user in an hour after the first, want 4", n)
				}
			})
		})
	}
}
