package migrations

import (
	"context"
	"testing"

	"github.com/stepgate/stepgate/mfa"
)

// typesAt0004 are the event types there were when 0004 ran, with the labels
// rows then carried: frozen like the migration (the live table in mfa may
// gain types and change labels; a code never changes).
var typesAt0004 = []mfa.EventType{
	{Code: "auth.password.verify", Label: "Primary authentication - Password"},
	{Code: "mfa.otp.verify", Label: "Secondary authentication - OTP"},
	{Code: "mfa.email.verify", Label: "Secondary authentication - Email"},
	{Code: "mfa.backup_code.verify", Label: "Secondary authentication - Backup code"},
	{Code: "mfa.otp.bind", Label: "MFA bound - OTP"},
	{Code: "mfa.otp.remove", Label: "MFA removed - OTP"},
	{Code: "mfa.backup_codes.regenerate", Label: "Backup codes regenerated"},
	{Code: "mfa.bypass.set", Label: "MFA bypass changed"},
	{Code: "account.lock", Label: "Account locked"},
	{Code: "account.unlock", Label: "Account unlocked"},
	{Code: "workspace.policy.update", Label: "Workspace policy changed"},
}

// Rows written before 0004 carry the label as their type; after it they carry
// the code, and the rows only a CLI command wrote name the CLI as actor.
func TestAuditCodesMigrationRewritesOldRows(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.dialect, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			all, err := All(e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if err := createBookkeeping(ctx, db, e.dialect); err != nil {
				t.Fatal(err)
			}
			for _, m := range all[:3] {
				if _, err := apply(ctx, db, e.dialect, m, fixedNow()); err != nil {
					t.Fatalf("%04d: %v", m.Version, err)
				}
			}
			old := []struct{ label, detail string }{
				{"Secondary authentication - OTP", "step 12"},
				{"Primary authentication - Password", ""},
				{"Account unlocked", "cli"},
				{"MFA removed - OTP", "OTP turned off on the last application using it; 2 binding(s) removed"},
				{"Something a newer version wrote", ""},
			}
			for _, o := range old {
				db.MustExecContext(ctx, db.Rebind(`INSERT INTO audit_events (at, type, result, detail) VALUES (?, ?, ?, ?)`),
					fixedNow().UnixMilli(), o.label, "success", o.detail)
			}

			for _, et := range typesAt0004 {
				if !mfa.IsEventCode(et.Code) {
					t.Fatalf("code %s is gone from mfa's table: a code must never change", et.Code)
				}
				db.MustExecContext(ctx, db.Rebind(`INSERT INTO audit_events (at, type, result) VALUES (?, ?, ?)`),
					fixedNow().UnixMilli(), et.Label, "success")
			}

			done, err := Up(ctx, db, e.dialect, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) == 0 || done[0] != 4 {
				t.Fatalf("Up applied %v, want 4 first", done)
			}
			type row struct{ Type, Actor, Detail string }
			var got []row
			if err := db.SelectContext(ctx, &got, `SELECT type AS "type", actor AS "actor", detail AS "detail"
				FROM audit_events ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			want := []row{
				{"mfa.otp.verify", "", "step 12"},
				{"auth.password.verify", "", ""},
				{"account.unlock", "cli", ""},
				{"mfa.otp.remove", "cli", old[3].detail},
				{"Something a newer version wrote", "", ""},
			}
			// Every label of the time becomes its code.
			n := len(want)
			for _, et := range typesAt0004 {
				want = append(want, row{Type: et.Code})
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] && (i < n || got[i].Type != want[i].Type) {
					t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}
