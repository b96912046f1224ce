package admin

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// auditWorld appends a login's rows for ada and a stranger's failures.
func auditWorld(t *testing.T, st storage.Store, adaID string) {
	t.Helper()
	for i, e := range []storage.AuditEvent{
		{Type: mfa.EventPassword, UserID: adaID, Identifier: "ada@example.com", ClientID: "app", IP: "192.0.2.1",
			Country: "FR", Result: storage.ResultSuccess},
		{Type: mfa.EventOTP, UserID: adaID, Identifier: "ada@example.com", ClientID: "app", IP: "192.0.2.1",
			Country: "FR", Result: storage.ResultFailure, Reason: mfa.ReasonWrongCode},
		{Type: mfa.EventOTP, UserID: adaID, ClientID: "app", IP: "2001:db8::1", Result: storage.ResultSuccess},
		{Type: mfa.EventPassword, Identifier: "=cmd|calc", ClientID: "other", IP: "198.51.100.7", Country: "DE",
			Result: storage.ResultFailure, Reason: mfa.ReasonUnknownUser},
	} {
		e.At = testT0.Add(time.Duration(i+1) * time.Minute)
		if err := st.AppendAudit(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueryAuditFiltersAndPages(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "") // row 1: admin.user.create
		auditWorld(t, st, ada.ID)

		page, err := svc.QueryAudit(ctx, AuditQueryInput{User: "ADA@example.com", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 2 || page.NextCursor == "" || page.Events[0].Type != mfa.EventOTP ||
			page.Events[0].TypeLabel != "Secondary authentication - OTP" || page.Events[0].IP != "2001:db8::1" {
			t.Fatalf("first page %+v", page)
		}
		rest, err := svc.QueryAudit(ctx, AuditQueryInput{User: ada.ID, Limit: 2, Cursor: page.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.Events) != 2 || rest.NextCursor != "" || rest.Events[1].Type != mfa.EventUserCreated ||
			rest.Events[1].Actor != "cli:alice" {
			t.Errorf("second page %+v", rest)
		}
		for _, c := range []struct {
			name string
			in   AuditQueryInput
			want int
		}{
			{"types", AuditQueryInput{Types: []string{mfa.EventPassword, " " + mfa.EventUserCreated + " "}}, 3},
			{"client and result", AuditQueryInput{ClientID: "app", Result: "failure"}, 1},
			{"IP in another spelling", AuditQueryInput{IP: "2001:DB8:0::1"}, 1},
			{"IPv4-mapped", AuditQueryInput{IP: "::ffff:192.0.2.1"}, 2},
			{"country any case", AuditQueryInput{Country: "de"}, 1},
			{"time range", AuditQueryInput{Since: testT0.Add(2 * time.Minute), Until: testT0.Add(4 * time.Minute)}, 2},
			{"an ID taken as given", AuditQueryInput{User: "gone-user-id"}, 0},
		} {
			got, err := svc.QueryAudit(ctx, c.in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(got.Events) != c.want {
				t.Errorf("%s: %d events, want %d", c.name, len(got.Events), c.want)
			}
		}
		_, err = svc.QueryAudit(ctx, AuditQueryInput{User: "nobody@example.com"})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown email: %v", err)
		}
	})
}

func TestQueryAuditRefusesWhatItCannotMatch(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		_, err := svc.QueryAudit(t.Context(), AuditQueryInput{Types: []string{"mfa.otp", mfa.EventOTP, "Secondary authentication - OTP"},
			Result: "ok", IP: "localhost", Country: "FRA", Since: testT0, Until: testT0, Limit: -3})
		wantFields(t, err, "types", "result", "until", "ip", "country", "limit")
		var fe FieldErrors
		errors.As(err, &fe)
		types := fe[0].Reason
		if !strings.Contains(types, `"mfa.otp", "Secondary authentication - OTP"`) || !strings.Contains(types, mfa.EventCodeList()) {
			t.Errorf("types message %q does not name the unknown codes and list the known", types)
		}
		_, err = svc.QueryAudit(t.Context(), AuditQueryInput{Cursor: "nope"})
		wantFields(t, err, "cursor")
	})
}

func TestExportAuditStreamsTheFilteredSetAsCSVOrJSON(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		auditWorld(t, st, ada.ID)
		in := AuditQueryInput{Types: []string{mfa.EventPassword, mfa.EventOTP}}

		// What the existing writers make of the same rows, read in one go.
		want, err := st.ListAudit(ctx, storage.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want = want[:4] // the newest four: every row but the creation
		var wantJSON, wantCSV bytes.Buffer
		audit.WriteJSON(&wantJSON, want)
		audit.WriteCSV(&wantCSV, want)

		var got bytes.Buffer
		if err := svc.ExportAudit(ctx, in, "json", &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != wantJSON.String() {
			t.Errorf("JSON export\n got %s\nwant %s", got.String(), wantJSON.String())
		}
		got.Reset()
		if err := svc.ExportAudit(ctx, in, "CSV", &got); err != nil {
			t.Fatal(err)
		}
		if got.String() != wantCSV.String() {
			t.Errorf("CSV export\n got %s\nwant %s", got.String(), wantCSV.String())
		}
		rows, err := csv.NewReader(&got).ReadAll()
		if err != nil || len(rows) != 5 || rows[1][5] != "'=cmd|calc" {
			t.Errorf("CSV rows %q, %v", rows, err)
		}

		got.Reset()
		if err := svc.ExportAudit(ctx, AuditQueryInput{Limit: 2, Country: "FR"}, "json", &got); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]any
		if err := json.Unmarshal(got.Bytes(), &objs); err != nil || len(objs) != 2 {
			t.Errorf("limited export %s, %v", got.String(), err)
		}
		got.Reset()
		if err := svc.ExportAudit(ctx, AuditQueryInput{User: "no-such-id"}, "json", &got); err != nil || got.String() != "[]\n" {
			t.Errorf("empty export %q, %v", got.String(), err)
		}

		got.Reset()
		err = svc.ExportAudit(ctx, AuditQueryInput{Types: []string{"bogus"}}, "xml", &got)
		wantFields(t, err, "format", "types")
		if got.Len() != 0 {
			t.Errorf("a refused export wrote %q", got.String())
		}
	})
}
