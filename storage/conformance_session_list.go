package storage

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func sessionListCases() []conformanceCase {
	// u1 has three sessions (h-old seen first, h-new last, h-gone past its
	// end), u2 one.
	world := func(t *testing.T, s Store) {
		t.Helper()
		ctx := t.Context()
		seedUser(t, s, "u1")
		seedUser(t, s, "u2")
		seedClient(t, s, "c1")
		seedClient(t, s, "c2")
		old := fixtureSession("h-old", "u1")
		must(t, s.CreateSession(ctx, old))
		nw := fixtureSession("h-new", "u1")
		nw.Factors = append(nw.Factors, FactorRecord{Method: "otp", At: at(time.Minute)})
		nw.LastSeenAt = at(time.Hour)
		must(t, s.CreateSession(ctx, nw))
		gone := fixtureSession("h-gone", "u1")
		gone.ExpiresAt = at(2 * time.Hour)
		must(t, s.CreateSession(ctx, gone))
		must(t, s.CreateSession(ctx, fixtureSession("h-u2", "u2")))
		// h-new completed logins to c2 and c1 (twice); h-old's request
		// was never completed; u2's completed one is u2's.
		for _, r := range []struct{ id, client, user, session string }{
			{"r1", "c2", "u1", "h-new"}, {"r2", "c1", "u1", "h-new"}, {"r3", "c1", "u1", "h-new"},
			{"r5", "c1", "u2", "h-u2"},
		} {
			must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest(r.id, r.client)))
			must(t, s.CompleteAuthRequest(ctx, r.id, r.user, r.session, confT0, []string{"pwd"}, ""))
		}
		must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest("r4", "c2")))
	}
	return []conformanceCase{
		{"a user's live sessions are listed most recently seen first, with factors and clients", func(t *testing.T, s Store) {
			world(t, s)
			got, err := s.ListSessions(t.Context(), "u1", at(3*time.Hour))
			must(t, err)
			nw, old := fixtureSession("h-new", "u1"), fixtureSession("h-old", "u1")
			want := []SessionInfo{
				{ID: SessionID("h-new"), UserID: "u1", Factors: append(nw.Factors, FactorRecord{Method: "otp", At: at(time.Minute)}),
					CreatedAt: confT0, LastSeenAt: at(time.Hour), ExpiresAt: nw.ExpiresAt, ClientIDs: []string{"c1", "c2"}},
				{ID: SessionID("h-old"), UserID: "u1", Factors: old.Factors, CreatedAt: confT0, LastSeenAt: confT0,
					ExpiresAt: old.ExpiresAt},
			}
			sameRecord(t, got, want)
			got, err = s.ListSessions(t.Context(), "u1", at(time.Hour))
			must(t, err)
			if len(got) != 3 {
				t.Errorf("before h-gone's end: %d sessions, want 3", len(got))
			}
			got, err = s.ListSessions(t.Context(), "nobody", confT0)
			must(t, err)
			if len(got) != 0 {
				t.Errorf("unknown user: %v", got)
			}
		}},
		{"a session's public ID is neither its key nor another session's", func(t *testing.T, s Store) {
			world(t, s)
			got, err := s.ListSessions(t.Context(), "u1", confT0)
			must(t, err)
			seen := map[string]bool{SessionID("h-u2"): true}
			for _, ss := range got {
				if ss.ID == "" || strings.Contains(ss.ID, "h-") || seen[ss.ID] {
					t.Errorf("session ID %q", ss.ID)
				}
				seen[ss.ID] = true
			}
		}},
		{"one session of a user is ended by its public ID", func(t *testing.T, s Store) {
			world(t, s)
			ctx := t.Context()
			wantErr(t, s.DeleteUserSession(ctx, "u1", SessionID("h-u2")), ErrNotFound) // u2's
			wantErr(t, s.DeleteUserSession(ctx, "u1", "h-old"), ErrNotFound)           // a key is not an ID
			wantErr(t, s.DeleteUserSession(ctx, "u1", ""), ErrNotFound)
			must(t, s.DeleteUserSession(ctx, "u1", SessionID("h-old")))
			wantErr(t, s.DeleteUserSession(ctx, "u1", SessionID("h-old")), ErrNotFound)
			_, err := s.GetSession(ctx, "h-old")
			wantErr(t, err, ErrNotFound)
			for _, h := range []string{"h-new", "h-gone", "h-u2"} {
				_, err := s.GetSession(ctx, h)
				must(t, err)
			}
			got, err := s.ListSessions(ctx, "u1", confT0)
			must(t, err)
			var ids []string
			for _, ss := range got {
				ids = append(ids, ss.ID)
			}
			if slices.Contains(ids, SessionID("h-old")) || len(ids) != 2 {
				t.Errorf("after ending h-old: %v", ids)
			}
		}},
	}
}

func factorUseCases() []conformanceCase {
	return []conformanceCase{
		{"an accepted TOTP step records when the binding was last used", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			b := seedConfirmed(t, s, "b1", "u1") // step 100 by the confirmation
			got, err := s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			if !got.LastUsedAt.IsZero() {
				t.Errorf("just bound: last used %v, want never", got.LastUsedAt)
			}
			must(t, s.UseTOTPStepAt(ctx, "b1", 101, at(time.Hour)))
			wantErr(t, s.UseTOTPStepAt(ctx, "b1", 101, at(2*time.Hour)), ErrAlreadyUsed) // replay
			got, err = s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			b.LastUsedStep, b.LastUsedAt = 101, at(time.Hour)
			sameRecord(t, got, b)
			// The step-only form guards replays the same and leaves the time.
			wantErr(t, s.UseTOTPStep(ctx, "b1", 101), ErrAlreadyUsed)
			must(t, s.UseTOTPStep(ctx, "b1", 102))
			got, err = s.GetFactor(ctx, "u1", FactorTOTP)
			must(t, err)
			sameTime(t, "LastUsedAt after UseTOTPStep", got.LastUsedAt, at(time.Hour))
		}},
		{"a pending or unknown binding cannot be used", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			b := fixtureBinding("b1", "u1", FactorTOTP)
			b.LastUsedAt = at(time.Hour) // ignored: what is put is pending and unused
			must(t, s.PutPendingFactor(ctx, b))
			wantErr(t, s.UseTOTPStepAt(ctx, "b1", 5, confT0), ErrNotFound)
			wantErr(t, s.UseTOTPStepAt(ctx, "nope", 5, confT0), ErrNotFound)
			list, err := s.ListFactors(ctx, "u1")
			must(t, err)
			if len(list) != 1 || !list[0].LastUsedAt.IsZero() {
				t.Errorf("pending binding %+v, want one never used", list)
			}
		}},
		{"two racing uses of one TOTP step with a time: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedConfirmed(t, s, "b1", "u1")
			errs := concurrently(t, s, 20, func(i int) error {
				return s.UseTOTPStepAt(ctx, "b1", 101, at(time.Duration(i)*time.Second))
			})
			wantWinners(t, errs, 1, ErrAlreadyUsed)
		}},
	}
}
