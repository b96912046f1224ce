package storage

import (
	"context"
	"slices"
	"testing"
	"time"
)

func userCases() []conformanceCase {
	return []conformanceCase{
		{"user round-trips with its email lower-cased", func(t *testing.T, s Store) {
			ctx := t.Context()
			u := fixtureUser("u1", RoleAdmin)
			u.Email = "Ada.Lovelace@Example.COM"
			u.Disabled, u.MFABypass, u.LastFactor = true, true, "otp"
			must(t, s.CreateUser(ctx, u))
			want := *u
			want.Email = "ada.lovelace@example.com"

			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			sameRecord(t, got, &want)
			got, err = s.GetUserByEmail(ctx, "ADA.lovelace@example.com")
			must(t, err)
			sameRecord(t, got, &want)
		}},
		{"unknown user is not found", func(t *testing.T, s Store) {
			_, err := s.GetUser(t.Context(), "nobody")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetUserByEmail(t.Context(), "nobody@example.com")
			wantErr(t, err, ErrNotFound)
		}},
		{"duplicate email is a conflict whatever its case", func(t *testing.T, s Store) {
			seedUser(t, s, "u1")
			dup := fixtureUser("u2", RoleMember)
			dup.Email = "U1@example.com"
			wantErr(t, s.CreateUser(t.Context(), dup), ErrConflict)
		}},
		{"duplicate user id is a conflict", func(t *testing.T, s Store) {
			seedUser(t, s, "u1")
			dup := fixtureUser("u1", RoleMember)
			dup.Email = "other@example.com"
			wantErr(t, s.CreateUser(t.Context(), dup), ErrConflict)
		}},
		{"second owner is a conflict", func(t *testing.T, s Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, fixtureUser("u1", RoleOwner)))
			wantErr(t, s.CreateUser(ctx, fixtureUser("u2", RoleOwner)), ErrConflict)
			// Promoting someone else is the same rule.
			seedUser(t, s, "u3")
			_, err := s.UpdateUser(ctx, "u3", func(u *User) error { u.Role = RoleOwner; return nil })
			wantErr(t, err, ErrConflict)
		}},
		{"update writes the profile and leaves counters alone", func(t *testing.T, s Store) {
			ctx := t.Context()
			u := seedUser(t, s, "u1")
			l := Lockout{Threshold: 6, Duration: time.Hour}
			for range 2 {
				_, err := s.ReservePasswordAttempt(ctx, "u1", confT0, l)
				must(t, err)
			}
			written, err := s.UpdateUser(ctx, "u1", func(u *User) error {
				if u.PasswordFailures != 2 {
					t.Errorf("update sees %d password failures, want the current 2", u.PasswordFailures)
				}
				u.Email, u.Name, u.Role, u.PasswordHash = "New@Example.com", "New Name", RoleAdmin, "new-hash"
				u.Disabled, u.MFABypass, u.LastFactor, u.UpdatedAt = true, true, "email", at(time.Hour)
				u.PasswordFailures, u.MFAFailures, u.MFALockedUntil = 99, 99, at(time.Hour) // must be ignored
				return nil
			})
			must(t, err)

			got, err := s.GetUser(ctx, "u1")
			must(t, err)
			want := *u
			want.Email, want.Name, want.Role, want.PasswordHash = "new@example.com", "New Name", RoleAdmin, "new-hash"
			want.Disabled, want.MFABypass, want.LastFactor, want.UpdatedAt = true, true, "email", at(time.Hour)
			want.PasswordFailures, want.MFAFailures, want.MFALockedUntil = 2, 0, time.Time{}
			sameRecord(t, got, &want)
			if written.Email != "new@example.com" || written.Name != "New Name" {
				t.Errorf("UpdateUser returned %+v, want the written record", written)
			}
		}},
		{"update to a taken email is a conflict", func(t *testing.T, s Store) {
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			_, err := s.UpdateUser(t.Context(), "u2", func(u *User) error { u.Email = "u1@example.com"; return nil })
			wantErr(t, err, ErrConflict)
		}},
		{"update of an unknown user is not found", func(t *testing.T, s Store) {
			_, err := s.UpdateUser(t.Context(), "nobody", func(*User) error { return nil })
			wantErr(t, err, ErrNotFound)
		}},
	}
}

// attemptKind lets the lockout rules run against both counters.
type attemptKind struct {
	name    string
	reserve func(Store, context.Context, string, time.Time, Lockout) (FailureState, error)
	reset   func(Store, context.Context, string) error
	other   func(Store, context.Context, string, time.Time, Lockout) (FailureState, error)
}

var attemptKinds = []attemptKind{
	{"password", Store.ReservePasswordAttempt, Store.ResetPasswordFailures, Store.ReserveMFAAttempt},
	{"MFA", Store.ReserveMFAAttempt, Store.ResetMFAFailures, Store.ReservePasswordAttempt},
}

var sixPerHour = Lockout{Threshold: 6, Duration: time.Hour}

func lockoutCases() []conformanceCase {
	var cases []conformanceCase
	for _, k := range attemptKinds {
		kind := k.name
		cases = append(cases,
			conformanceCase{kind + ": sixth wrong attempt locks for one hour", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				for i := 1; i <= 5; i++ {
					st, err := k.reserve(s, t.Context(), "u1", at(time.Duration(i)*time.Second), sixPerHour)
					must(t, err)
					if st.Failures != i || st.Locks() {
						t.Fatalf("attempt %d: state %+v, want %d failures and no lock", i, st, i)
					}
				}
				now := at(6 * time.Second)
				st, err := k.reserve(s, t.Context(), "u1", now, sixPerHour)
				must(t, err)
				if st.Failures != 6 || !st.Locks() {
					t.Fatalf("attempt 6: state %+v, want 6 failures and a lock", st)
				}
				sameTime(t, "LockedUntil", st.LockedUntil, now.Add(time.Hour))
			}},
			conformanceCase{kind + ": attempts while locked are refused and not counted", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				for range 6 {
					_, err := k.reserve(s, t.Context(), "u1", confT0, sixPerHour)
					must(t, err)
				}
				st, err := k.reserve(s, t.Context(), "u1", at(59*time.Minute), sixPerHour)
				wantErr(t, err, ErrLocked)
				if st.Failures != 6 {
					t.Errorf("Failures = %d while locked, want 6", st.Failures)
				}
				sameTime(t, "LockedUntil", st.LockedUntil, at(time.Hour))
			}},
			conformanceCase{kind + ": expired lock restarts the count", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				for range 6 {
					_, err := k.reserve(s, t.Context(), "u1", confT0, sixPerHour)
					must(t, err)
				}
				st, err := k.reserve(s, t.Context(), "u1", at(time.Hour), sixPerHour) // the lock's end
				must(t, err)
				if st.Failures != 1 || st.Locks() {
					t.Errorf("first attempt after the lock: state %+v, want 1 failure and no lock", st)
				}
			}},
			conformanceCase{kind + ": reset clears the count and lifts the lock", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				for range 6 {
					_, err := k.reserve(s, t.Context(), "u1", confT0, sixPerHour)
					must(t, err)
				}
				must(t, k.reset(s, t.Context(), "u1"))
				u, err := s.GetUser(t.Context(), "u1")
				must(t, err)
				if u.PasswordFailures != 0 || u.MFAFailures != 0 || !u.PasswordLockedUntil.IsZero() || !u.MFALockedUntil.IsZero() {
					t.Errorf("after reset: %+v", u)
				}
				st, err := k.reserve(s, t.Context(), "u1", at(time.Minute), sixPerHour)
				must(t, err)
				if st.Failures != 1 {
					t.Errorf("Failures after reset = %d, want 1", st.Failures)
				}
			}},
			conformanceCase{kind + ": the other counter is separate", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				for range 6 {
					_, err := k.reserve(s, t.Context(), "u1", confT0, sixPerHour)
					must(t, err)
				}
				st, err := k.other(s, t.Context(), "u1", confT0, sixPerHour)
				must(t, err)
				if st.Failures != 1 || st.Locks() {
					t.Errorf("other counter: state %+v, want 1 failure and no lock", st)
				}
			}},
			conformanceCase{kind + ": unknown user is not found", func(t *testing.T, s Store) {
				_, err := k.reserve(s, t.Context(), "nobody", confT0, sixPerHour)
				wantErr(t, err, ErrNotFound)
				wantErr(t, k.reset(s, t.Context(), "nobody"), ErrNotFound)
			}},
			conformanceCase{"50 parallel " + kind + " attempts evaluate at most 6", func(t *testing.T, s Store) {
				seedUser(t, s, "u1")
				states := make([]FailureState, 50)
				errs := concurrently(t, s, 50, func(i int) error {
					var err error
					states[i], err = k.reserve(s, t.Context(), "u1", confT0, sixPerHour)
					return err
				})
				wantWinners(t, errs, 6, ErrLocked)
				seen := map[int]bool{}
				locks := 0
				for i, err := range errs {
					if err != nil {
						continue
					}
					seen[states[i].Failures] = true
					if states[i].Locks() {
						locks++
					}
				}
				if len(seen) != 6 || locks != 1 {
					t.Errorf("winners saw failure counts %v and %d locks; want 1..6 once each and one lock", seen, locks)
				}
			}},
		)
	}
	return cases
}

func clientCases() []conformanceCase {
	return []conformanceCase{
		{"client round-trips", func(t *testing.T, s Store) {
			ctx := t.Context()
			c := fixtureClient("c1")
			c.FactorEmail = true
			must(t, s.CreateClient(ctx, c))
			pub := fixtureClient("c2")
			pub.Public, pub.SecretHash, pub.TokenFormat, pub.FactorOTP = true, "", TokenFormatOpaque, false
			pub.PostLogoutRedirectURIs = nil
			must(t, s.CreateClient(ctx, pub))

			got, err := s.GetClient(ctx, "c1")
			must(t, err)
			sameRecord(t, got, c)
			got, err = s.GetClient(ctx, "c2")
			must(t, err)
			sameRecord(t, got, pub)
		}},
		{"MFA max age keeps zero and no-limit apart", func(t *testing.T, s Store) {
			ctx := t.Context()
			for id, age := range map[string]time.Duration{"every-time": 0, "no-limit": -1, "no-limit-ms": -time.Millisecond} {
				c := fixtureClient(id)
				c.MFAMaxAge = age
				must(t, s.CreateClient(ctx, c))
				got, err := s.GetClient(ctx, id)
				must(t, err)
				if (age == 0) != (got.MFAMaxAge == 0) || (age < 0) != (got.MFAMaxAge < 0) {
					t.Errorf("%s: MFAMaxAge %v came back as %v", id, age, got.MFAMaxAge)
				}
			}
		}},
		{"duplicate client id is a conflict", func(t *testing.T, s Store) {
			seedClient(t, s, "c1")
			wantErr(t, s.CreateClient(t.Context(), fixtureClient("c1")), ErrConflict)
		}},
		{"unknown client is not found", func(t *testing.T, s Store) {
			_, err := s.GetClient(t.Context(), "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"clients are listed oldest first", func(t *testing.T, s Store) {
			ctx := t.Context()
			for i, id := range []string{"c", "a", "b"} {
				c := fixtureClient(id)
				c.CreatedAt = at(-time.Duration(i) * time.Hour)
				must(t, s.CreateClient(ctx, c))
			}
			list, err := s.ListClients(ctx)
			must(t, err)
			var ids []string
			for _, c := range list {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, []string{"b", "a", "c"}) {
				t.Errorf("ListClients order = %v, want [b a c]", ids)
			}
		}},
		{"update rewrites the client", func(t *testing.T, s Store) {
			ctx := t.Context()
			c := seedClient(t, s, "c1")
			c.Name, c.SecretHash, c.Public = "Renamed", "", true
			c.RedirectURIs, c.PostLogoutRedirectURIs = []string{"https://new.example/cb"}, nil
			c.TokenFormat, c.FactorOTP, c.FactorEmail = TokenFormatOpaque, false, true
			c.MFAMaxAge, c.UpdatedAt = 2*time.Hour, at(time.Hour)
			c.AccessTokenLifetime, c.IDTokenLifetime, c.RefreshTokenLifetime = 0, 10*time.Minute, 24*time.Hour
			_, err := s.UpdateClient(ctx, "c1", func(old *Client) error {
				created := old.CreatedAt
				*old = *c
				old.CreatedAt = created.Add(time.Hour) // must be ignored
				return nil
			})
			must(t, err)
			got, err := s.GetClient(ctx, "c1")
			must(t, err)
			sameRecord(t, got, c)
			_, err = s.UpdateClient(ctx, "nope", func(*Client) error { return nil })
			wantErr(t, err, ErrNotFound)
		}},
		{"deleting a client removes its requests and tokens", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedClient(t, s, "c1")
			seedClient(t, s, "c2")
			must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest("ar1", "c1")))
			must(t, s.CreateToken(ctx, fixtureToken("a1", "c1", "u1", "ar1", "")))
			must(t, s.CreateToken(ctx, fixtureToken("a2", "c2", "u1", "", "")))
			rt := fixtureRefresh("r1", "f1", "c1", "u1", "ar1")
			must(t, s.CreateRefreshToken(ctx, rt))

			must(t, s.DeleteClient(ctx, "c1"))
			_, err := s.GetClient(ctx, "c1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetAuthRequest(ctx, "ar1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetToken(ctx, "a1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetRefreshTokenByHash(ctx, rt.TokenHash)
			wantErr(t, err, ErrNotFound)
			_, err = s.GetToken(ctx, "a2")
			must(t, err)
			wantErr(t, s.DeleteClient(ctx, "c1"), ErrNotFound)
		}},
	}
}
