package e2e_test

import (
	"sync"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// TestEmailCodeLimitsHoldUnderParallelSends: the 60 s spacing per login
// and the hourly limit per user are each decided by one statement, so
// parallel requests (on PostgreSQL, spread over two replicas) cannot pass
// them together.
func TestEmailCodeLimitsHoldUnderParallelSends(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, r, mail := mfaSetup(t, eng, "--password-ip-limit", "0")
			srv.CLI("client", "set-factors", r.Config.ClientID, "--email=on")
			rps := []*e2e.RP{r}
			if eng.Postgres() {
				rps = append(rps, e2e.NewRP(t, srv.Replica(), e2e.Client{ClientID: r.Config.ClientID, ClientSecret: r.Config.ClientSecret}))
			}
			type login struct {
				b    *e2e.Browser
				p    *e2e.Page
				send string
			}
			// start opens a login on replica i and returns it on the email
			// tab, before any code was sent.
			start := func(i int) login {
				rp := rps[i%len(rps)]
				b := e2e.NewBrowser(t, redirectURI)
				p := passwordStep(t, b, rp.Start())
				if !p.HasForm(e2e.WithButton("Send code")) {
					t.Fatalf("not on the email tab: %d %s", p.Status, p.URL)
				}
				return login{b, p, rp.Server.URL + "/login/email/send"}
			}
			burst := func(logins []login, perLogin int) {
				var wg sync.WaitGroup
				for _, l := range logins {
					for j := 0; j < perLogin; j++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							l.b.Post(l.send, formFields(l.p))
						}()
					}
				}
				wg.Wait()
			}

			t.Run("20 parallel sends for one login send exactly one email", func(t *testing.T) {
				before := len(mail.Messages())
				l := start(0)
				// The same login, through each replica.
				logins := []login{l}
				for i := 1; i < len(rps); i++ {
					logins = append(logins, login{l.b, l.p, rps[i].Server.URL + "/login/email/send"})
				}
				burst(logins, 20/len(logins))
				if n := len(mail.Messages()) - before; n != 1 {
					t.Fatalf("%d emails for 20 parallel sends of one login", n)
				}
				if got := countReasons(srv.Audit(storage.AuditFilter{}), mfa.EventEmailSend); got["failure/rate_limited"] != 19 {
					t.Errorf("refused sends audited as %s: %v, want 19 failure/rate_limited", mfa.EventEmailSend, got)
				}
			})

			t.Run("parallel sends across logins of one user never exceed 5 per hour", func(t *testing.T) {
				before := len(mail.Messages())
				var logins []login
				for i := 0; i < 12; i++ {
					logins = append(logins, start(i))
				}
				burst(logins, 2)
				// One code was sent in the subtest above, in this hour.
				if n := len(mail.Messages()) - before; n != 4 {
					t.Fatalf("%d emails for one user in an hour after the first, want 4", n)
				}
			})
		})
	}
}
