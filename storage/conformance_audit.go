package storage

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func auditCases() []conformanceCase {
	// Appended out of time order; e3 and e4 share a time.
	events := func() []*AuditEvent {
		return []*AuditEvent{
			{At: at(time.Minute), Type: "login.password", UserID: "u1", Identifier: "u1@example.com", ClientID: "c1",
				IP: "192.0.2.1", Country: "FR", UserAgent: "Firefox", Result: ResultSuccess},
			{At: confT0, Type: "login.password", UserID: "u2", Identifier: "u2@example.com", IP: "2001:db8::1",
				Result: ResultFailure, Reason: "wrong_password"},
			{At: at(2 * time.Minute), Type: "login.otp", UserID: "u1", Result: ResultFailure, Reason: "replayed_code",
				Detail: "step 12345"},
			{At: at(2 * time.Minute), Type: "login.otp", UserID: "u1", Result: ResultSuccess},
			{At: at(3 * time.Minute), Type: "admin.user_created", Actor: "cli:root", UserID: "u3",
				Identifier: "owner@example.com", Result: ResultSuccess},
		}
	}
	seed := func(t *testing.T, s Store) []*AuditEvent {
		t.Helper()
		evs := events()
		for _, e := range evs {
			must(t, s.AppendAudit(t.Context(), e))
		}
		return evs
	}
	list := func(t *testing.T, s Store, f AuditFilter, want ...*AuditEvent) {
		t.Helper()
		got, err := s.ListAudit(t.Context(), f)
		must(t, err)
		w := make([]AuditEvent, len(want))
		for i, e := range want {
			w[i] = *e
		}
		sameRecord(t, got, w)
	}
	return []conformanceCase{
		{"appending fills increasing ids", func(t *testing.T, s Store) {
			evs := seed(t, s)
			for i := 1; i < len(evs); i++ {
				if evs[i].ID <= evs[i-1].ID {
					t.Errorf("ids not increasing: %d then %d", evs[i-1].ID, evs[i].ID)
				}
			}
		}},
		{"audit is listed newest first, then by id", func(t *testing.T, s Store) {
			e := seed(t, s)
			list(t, s, AuditFilter{}, e[4], e[3], e[2], e[0], e[1])
		}},
		{"audit filters by user, type, result and time", func(t *testing.T, s Store) {
			e := seed(t, s)
			list(t, s, AuditFilter{UserID: "u1"}, e[3], e[2], e[0])
			list(t, s, AuditFilter{Type: "login.password"}, e[0], e[1])
			list(t, s, AuditFilter{Result: ResultFailure}, e[2], e[1])
			list(t, s, AuditFilter{Since: at(2 * time.Minute)}, e[4], e[3], e[2]) // inclusive
			list(t, s, AuditFilter{UserID: "u1", Type: "login.otp", Result: ResultSuccess, Since: confT0}, e[3])
			list(t, s, AuditFilter{UserID: "nobody"})
		}},
		{"audit keeps who acted; the user's own rows have no actor", func(t *testing.T, s Store) {
			e := seed(t, s)
			got, err := s.ListAudit(t.Context(), AuditFilter{})
			must(t, err)
			if len(got) != len(e) || got[0].Actor != "cli:root" || got[0].ID != e[4].ID {
				t.Fatalf("newest row %+v, want the CLI's", got[0])
			}
			for _, g := range got[1:] {
				if g.Actor != "" {
					t.Errorf("row %d has actor %q, want none", g.ID, g.Actor)
				}
			}
			long := &AuditEvent{At: confT0, Type: "mfa.otp.remove", Actor: "cli:" + strings.Repeat("ü", 200),
				Result: ResultSuccess}
			must(t, s.AppendAudit(t.Context(), long))
			list(t, s, AuditFilter{Type: "mfa.otp.remove"}, long)
		}},
		{"audit limit keeps the newest; zero means no limit", func(t *testing.T, s Store) {
			e := seed(t, s)
			list(t, s, AuditFilter{Limit: 2}, e[4], e[3])
			list(t, s, AuditFilter{UserID: "u1", Limit: 1}, e[3])
			list(t, s, AuditFilter{Limit: 0}, e[4], e[3], e[2], e[0], e[1])
		}},
	}
}

func settingCases() []conformanceCase {
	return []conformanceCase{
		{"unset setting is not found", func(t *testing.T, s Store) {
			_, err := s.GetSetting(t.Context(), "policy")
			wantErr(t, err, ErrNotFound)
		}},
		{"a setting is stored and replaced", func(t *testing.T, s Store) {
			ctx := t.Context()
			first := []byte(`{"require_mfa":true,"factors":["otp","email"]}`)
			must(t, s.PutSetting(ctx, "policy", first, confT0))
			must(t, s.PutSetting(ctx, "other", []byte(`1`), confT0))
			got, err := s.GetSetting(ctx, "policy")
			must(t, err)
			if !bytes.Equal(got, first) {
				t.Errorf("GetSetting = %s, want %s", got, first)
			}
			second := []byte(`{"require_mfa":false}`)
			must(t, s.PutSetting(ctx, "policy", second, at(time.Hour)))
			got, err = s.GetSetting(ctx, "policy")
			must(t, err)
			if !bytes.Equal(got, second) {
				t.Errorf("GetSetting after replace = %s, want %s", got, second)
			}
			got, err = s.GetSetting(ctx, "other")
			must(t, err)
			if string(got) != "1" {
				t.Errorf("replacing one setting changed another: %s", got)
			}
		}},
	}
}
