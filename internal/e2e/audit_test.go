package e2e_test

import (
	"encoding/csv"
	"encoding/json"
	"os/user"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/audit/audittest"
	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// gbDB is a country database placing 81.2.69.0/24 in GB.
func gbDB(t *testing.T) string {
	return audittest.WriteCountryDB(t, map[string]string{"81.2.69.0/24": "GB"})
}

func TestAuditRowsCarryWhereFromAndNoSecrets(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			srv := e2e.Start(t, e2e.Options{Engine: eng, Args: []string{"--geoip-db", gbDB(t), "--trusted-proxies", "127.0.0.1"}})
			srv.CreateUser(testEmail, testPassword)
			c := srv.CreateClient("--name", "App", "--redirect-uri", redirectURI)
			r := e2e.NewRP(t, srv, c)

			b := e2e.NewBrowser(t, redirectURI)
			f := r.Start()
			form := b.Get(f.AuthURL).Form(e2e.WithAction("/login/password")).Set("email", testEmail).Set("password", "wrong password")
			req := e2e.NewFormRequest(t, form.Action.String(), form.Values())
			req.Header.Set("X-Forwarded-For", "81.2.69.160")
			req.Header.Set("User-Agent", "TestAgent/1.0")
			b.Do(req)

			evs := srv.Audit(storage.AuditFilter{Type: mfa.EventPassword})
			if len(evs) != 1 {
				t.Fatalf("%d password events", len(evs))
			}
			e := evs[0]
			if e.IP != "81.2.69.160" || e.Country != "GB" || e.Result != storage.ResultFailure ||
				e.Reason != mfa.ReasonWrongPassword || e.Identifier != testEmail || e.UserID == "" ||
				e.ClientID != c.ClientID || e.UserAgent != "TestAgent/1.0" || e.At.IsZero() || e.Actor != "" {
				t.Errorf("audit row = %+v", e)
			}

			// The CLI lists it; nothing secret is in any row.
			out := srv.CLI("audit", "list", "--user", testEmail, "--type", mfa.EventPassword, "--json")
			var rows []map[string]any
			if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil || len(rows) != 1 {
				t.Fatalf("audit list --json: %v %s", err, out)
			}
			if rows[0]["country"] != "GB" || rows[0]["reason"] != "wrong_password" || rows[0]["type"] != "auth.password.verify" ||
				rows[0]["type_label"] != "Primary authentication - Password" || rows[0]["actor"] != "" {
				t.Errorf("audit list row = %v", rows[0])
			}
			out = srv.CLI("audit", "list", "--result", "failure", "--since", "1h", "--csv")
			recs, err := csv.NewReader(strings.NewReader(out[strings.Index(out, "time,"):])).ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("audit list --csv: %v %q", err, out)
			}
			if strings.Contains(out, "wrong password") || strings.Contains(out, testPassword) {
				t.Error("a password reached the audit trail")
			}
		})
	}
}

func TestForwardedForIsIgnoredFromUntrustedPeers(t *testing.T) {
	srv := e2e.Start(t, e2e.Options{Args: []string{"--geoip-db", gbDB(t)}})
	c := srv.CreateClient("--name", "App", "--redirect-uri", redirectURI)
	r := e2e.NewRP(t, srv, c)
	b := e2e.NewBrowser(t, redirectURI)
	f := r.Start()
	form := b.Get(f.AuthURL).Form(e2e.WithAction("/login/password")).Set("email", "x@example.com").Set("password", "nope")
	req := e2e.NewFormRequest(t, form.Action.String(), form.Values())
	req.Header.Set("X-Forwarded-For", "81.2.69.160")
	b.Do(req)
	evs := srv.Audit(storage.AuditFilter{Type: mfa.EventPassword})
	if len(evs) != 1 || evs[0].IP != "127.0.0.1" || evs[0].Country != "" || evs[0].Reason != mfa.ReasonUnknownUser {
		t.Fatalf("audit rows = %+v", evs)
	}
}

// Commands write their audit rows as cli:<os user>; the list filters by code,
// refuses anything else with the valid codes, and shows code, label and actor.
func TestAuditListShowsCodeLabelAndTheCLIActor(t *testing.T) {
	srv := e2e.Start(t, e2e.Options{})
	srv.CreateUser(testEmail, testPassword)
	srv.CLI("user", "disable", testEmail)
	srv.CLI("user", "backup-codes", "regenerate", testEmail)
	me, err := user.Current()
	if err != nil || me.Username == "" {
		t.Fatalf("no OS user to expect in the actor (cli:<os user>): %v", err)
	}
	actor := mfa.ActorCLI + ":" + me.Username

	out := srv.CLI("audit", "list", "--type", "admin.user.disable", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("audit list --json: %v %s", err, out)
	}
	if rows[0]["type"] != "admin.user.disable" || rows[0]["type_label"] != "User disabled" || rows[0]["actor"] != actor {
		t.Errorf("row %v", rows[0])
	}

	out = srv.CLI("audit", "list", "--type", "mfa.backup_codes.regenerate", "--csv")
	recs, err := csv.NewReader(strings.NewReader(out[strings.Index(out, "time,"):])).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit list --csv: %v %q", err, out)
	}
	if recs[0][1] != "type" || recs[0][2] != "type_label" || recs[0][3] != "actor" ||
		recs[1][1] != "mfa.backup_codes.regenerate" || recs[1][2] != "Backup codes regenerated" || recs[1][3] != actor {
		t.Errorf("csv %q", recs)
	}

	out = srv.CLI("audit", "list")
	for _, want := range []string{"LABEL", "ACTOR", "admin.user.disable", "User disabled", actor} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	res := srv.RunCLI("", "audit", "list", "--type", "Account unlocked")
	if res.Code != 2 || !strings.Contains(res.Stderr, `type "Account unlocked"`) {
		t.Errorf("a label as --type: exit %d, %s", res.Code, res.Output)
	}
	for _, c := range mfa.EventCodes() {
		if !strings.Contains(res.Stderr, c) {
			t.Errorf("the error does not list %s: %s", c, res.Stderr)
		}
	}
}
