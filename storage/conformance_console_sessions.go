package storage

import (
	"sync"
	"testing"
	"time"
)

func fixtureConsoleSession(idHash, userID string) *ConsoleSession {
	return &ConsoleSession{
		IDHash: idHash, UserID: userID, AuthTime: confT0, MFAAt: at(time.Second), IDToken: "eyJ.id.token",
		CreatedAt: at(2 * time.Second), LastSeenAt: at(2 * time.Second), ExpiresAt: at(12 * time.Hour),
	}
}

func consoleSessionCases() []conformanceCase {
	return []conformanceCase{
		{"console session round-trips; no second factor is a zero time", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			cs := fixtureConsoleSession("c1", "u1")
			must(t, s.CreateConsoleSession(ctx, cs))
			got, err := s.GetConsoleSession(ctx, "c1")
			must(t, err)
			sameRecord(t, got, cs)
			pwdOnly := fixtureConsoleSession("c2", "u1")
			pwdOnly.MFAAt = time.Time{}
			must(t, s.CreateConsoleSession(ctx, pwdOnly))
			got, err = s.GetConsoleSession(ctx, "c2")
			must(t, err)
			if !got.MFAAt.IsZero() {
				t.Errorf("MFAAt = %v, want zero", got.MFAAt)
			}
			wantErr(t, s.CreateConsoleSession(ctx, fixtureConsoleSession("c1", "u1")), ErrConflict)
			_, err = s.GetConsoleSession(ctx, "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"touch, delete; unknown hashes are ErrNotFound", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateConsoleSession(ctx, fixtureConsoleSession("c1", "u1")))
			must(t, s.TouchConsoleSession(ctx, "c1", at(time.Hour)))
			got, err := s.GetConsoleSession(ctx, "c1")
			must(t, err)
			sameTime(t, "LastSeenAt", got.LastSeenAt, at(time.Hour))
			wantErr(t, s.TouchConsoleSession(ctx, "nope", at(time.Hour)), ErrNotFound)
			wantErr(t, s.SetConsolePending(ctx, "nope", "x"), ErrNotFound)
			must(t, s.DeleteConsoleSession(ctx, "c1"))
			wantErr(t, s.DeleteConsoleSession(ctx, "c1"), ErrNotFound)
			_, err = s.GetConsoleSession(ctx, "c1")
			wantErr(t, err, ErrNotFound)
		}},
		{"a pending action is taken once, also by concurrent takers", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateConsoleSession(ctx, fixtureConsoleSession("c1", "u1")))
			got, err := s.TakeConsolePending(ctx, "c1")
			must(t, err)
			if got != "" {
				t.Errorf("nothing pending: took %q", got)
			}
			must(t, s.SetConsolePending(ctx, "c1", `{"action":"reset"}`))
			var wg sync.WaitGroup
			taken := make([]string, 4)
			errs := make([]error, 4)
			for i := range taken {
				wg.Go(func() { taken[i], errs[i] = s.TakeConsolePending(ctx, "c1") })
			}
			wg.Wait()
			n := 0
			for i, v := range taken {
				if errs[i] != nil {
					t.Fatalf("take %d: %v", i, errs[i])
				}
				if v != "" {
					n++
					if v != `{"action":"reset"}` {
						t.Errorf("took %q", v)
					}
				}
			}
			if n != 1 {
				t.Errorf("the pending action was taken %d times, want once", n)
			}
			_, err = s.TakeConsolePending(ctx, "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"a user's console sessions end with their sessions and expire with them", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			must(t, s.CreateConsoleSession(ctx, fixtureConsoleSession("a", "u1")))
			must(t, s.CreateConsoleSession(ctx, fixtureConsoleSession("b", "u2")))
			must(t, s.DeleteUserSessions(ctx, "u1"))
			_, err := s.GetConsoleSession(ctx, "a")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetConsoleSession(ctx, "b")
			must(t, err)

			must(t, s.TouchConsoleSession(ctx, "b", at(50*time.Minute)))
			ended := fixtureConsoleSession("ended", "u2")
			ended.ExpiresAt = at(time.Hour)
			must(t, s.CreateConsoleSession(ctx, ended))
			idle := fixtureConsoleSession("idle", "u2")
			idle.LastSeenAt = at(-time.Hour)
			must(t, s.CreateConsoleSession(ctx, idle))
			n, err := s.DeleteExpiredSessions(ctx, at(time.Hour), 30*time.Minute)
			must(t, err)
			if n != 2 {
				t.Errorf("removed %d, want 2 (ended, idle)", n)
			}
			for _, h := range []string{"ended", "idle"} {
				_, err = s.GetConsoleSession(ctx, h)
				wantErr(t, err, ErrNotFound)
			}
			_, err = s.GetConsoleSession(ctx, "b")
			must(t, err)
			// No idle limit: only the absolute end counts.
			must(t, s.CreateConsoleSession(ctx, idle))
			_, err = s.DeleteExpiredSessions(ctx, at(time.Hour), 0)
			must(t, err)
			_, err = s.GetConsoleSession(ctx, "idle")
			must(t, err)
		}},
	}
}
