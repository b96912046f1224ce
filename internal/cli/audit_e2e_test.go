package cli

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/audit/audittest"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// gbDB is a country database placing 81.2.69.0/24 in GB.
func gbDB(t *testing.T) string {
	return audittest.WriteCountryDB(t, map[string]string{"81.2.69.0/24": "GB"})
}

func TestAuditRowsCarryWhereFromAndNoSecrets(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			geo := gbDB(t)
			srv := startServer(t, database(t, dir), dir, "--geoip-db", geo, "--trusted-proxies", "127.0.0.1")
			srv.createUser(testEmail, testPassword)
			c := srv.createClient("--name", "App", "--redirect-uri", redirectURI)
			r := newRP(t, srv, c)

			b := newBrowser(t, redirectURI)
			f := r.start()
			p := b.get(f.authURL)
			m := formAction.FindStringSubmatch(p.body)
			form := map[string]string{"email": testEmail, "password": "wrong password"}
			for _, h := range hiddenField.FindAllStringSubmatch(p.body, -1) {
				form[h[1]] = unescapeHTML(h[2])
			}
			values := make(map[string][]string)
			for k, v := range form {
				values[k] = []string{v}
			}
			req := newFormRequest(t, srv.issuer+unescapeHTML(m[1]), values)
			req.Header.Set("X-Forwarded-For", "81.2.69.160")
			req.Header.Set("User-Agent", "TestAgent/1.0")
			b.do(req)

			evs := srv.auditOf(storage.AuditFilter{Type: mfa.EventPassword})
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
			out := srv.cli("", "audit", "list", "--user", testEmail, "--json")
			var rows []map[string]any
			if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil || len(rows) != 1 {
				t.Fatalf("audit list --json: %v %s", err, out)
			}
			if rows[0]["country"] != "GB" || rows[0]["reason"] != "wrong_password" || rows[0]["type"] != "auth.password.verify" ||
				rows[0]["type_label"] != "Primary authentication - Password" || rows[0]["actor"] != "" {
				t.Errorf("audit list row = %v", rows[0])
			}
			out = srv.cli("", "audit", "list", "--result", "failure", "--since", "1h", "--csv")
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
	dir := t.TempDir()
	srv := startServer(t, "sqlite://"+dir+"/db.sqlite", dir, "--geoip-db", gbDB(t))
	c := srv.createClient("--name", "App", "--redirect-uri", redirectURI)
	r := newRP(t, srv, c)
	b := newBrowser(t, redirectURI)
	f := r.start()
	p := b.get(f.authURL)
	values := map[string][]string{"email": {"x@example.com"}, "password": {"nope"}}
	for _, h := range hiddenField.FindAllStringSubmatch(p.body, -1) {
		values[h[1]] = []string{unescapeHTML(h[2])}
	}
	req := newFormRequest(t, srv.issuer+"/login/password", values)
	req.Header.Set("X-Forwarded-For", "81.2.69.160")
	b.do(req)
	evs := srv.auditOf(storage.AuditFilter{Type: mfa.EventPassword})
	if len(evs) != 1 || evs[0].IP != "127.0.0.1" || evs[0].Country != "" || evs[0].Reason != mfa.ReasonUnknownUser {
		t.Fatalf("audit rows = %+v", evs)
	}
}

// Commands write their audit rows as cli:<os user>; the list filters by code,
// refuses anything else with the valid codes, and shows code, label and actor.
func TestAuditListShowsCodeLabelAndTheCLIActor(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, "sqlite://"+dir+"/db.sqlite", dir)
	srv.createUser(testEmail, testPassword)
	srv.cli("", "user", "unlock", testEmail)
	srv.cli("", "user", "backup-codes", "regenerate", testEmail)
	actor := cliActor(env{getenv: noEnv})
	if !strings.HasPrefix(actor, "cli:") {
		t.Fatalf("actor %q, want cli:<os user>", actor)
	}

	out := srv.cli("", "audit", "list", "--type", "account.unlock", "--json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out[strings.Index(out, "["):]), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("audit list --json: %v %s", err, out)
	}
	if rows[0]["type"] != "account.unlock" || rows[0]["type_label"] != "Account unlocked" || rows[0]["actor"] != actor ||
		rows[0]["detail"] != "" {
		t.Errorf("row %v", rows[0])
	}

	out = srv.cli("", "audit", "list", "--type", "mfa.backup_codes.regenerate", "--csv")
	recs, err := csv.NewReader(strings.NewReader(out[strings.Index(out, "time,"):])).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit list --csv: %v %q", err, out)
	}
	if recs[0][1] != "type" || recs[0][2] != "type_label" || recs[0][3] != "actor" ||
		recs[1][1] != "mfa.backup_codes.regenerate" || recs[1][2] != "Backup codes regenerated" || recs[1][3] != actor {
		t.Errorf("csv %q", recs)
	}

	out = srv.cli("", "audit", "list")
	for _, want := range []string{"LABEL", "ACTOR", "account.unlock", "Account unlocked", actor} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	out, code := srv.cliCode("", "audit", "list", "--type", "Account unlocked")
	if code != 2 || !strings.Contains(out, `type "Account unlocked"`) {
		t.Errorf("a label as --type: exit %d, %s", code, out)
	}
	for _, c := range mfa.EventCodes() {
		if !strings.Contains(out, c) {
			t.Errorf("the error does not list %s: %s", c, out)
		}
	}
}
