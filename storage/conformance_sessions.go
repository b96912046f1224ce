package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func fixtureSession(idHash, userID string) *Session {
	return &Session{
		IDHash:     idHash,
		UserID:     userID,
		Factors:    []FactorRecord{{Method: "pwd", At: confT0}},
		CreatedAt:  confT0,
		LastSeenAt: confT0,
		ExpiresAt:  at(12 * time.Hour),
	}
}

func sessionCases() []conformanceCase {
	return []conformanceCase{
		{"session round-trips with its factors", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			sess := fixtureSession("h1", "u1")
			sess.Factors = append(sess.Factors, FactorRecord{Method: "otp", At: at(30 * time.Second)})
			must(t, s.CreateSession(ctx, sess))
			got, err := s.GetSession(ctx, "h1")
			must(t, err)
			sameRecord(t, got, sess)
			_, err = s.GetSession(ctx, "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"session without factors round-trips", func(t *testing.T, s Store) {
			seedUser(t, s, "u1")
			sess := fixtureSession("h1", "u1")
			sess.Factors = nil
			must(t, s.CreateSession(t.Context(), sess))
			got, err := s.GetSession(t.Context(), "h1")
			must(t, err)
			sameRecord(t, got, sess)
		}},
		{"duplicate session hash is a conflict", func(t *testing.T, s Store) {
			seedUser(t, s, "u1")
			must(t, s.CreateSession(t.Context(), fixtureSession("h1", "u1")))
			wantErr(t, s.CreateSession(t.Context(), fixtureSession("h1", "u1")), ErrConflict)
		}},
		{"a session needs an existing user", func(t *testing.T, s Store) {
			if err := s.CreateSession(t.Context(), fixtureSession("h1", "nobody")); err == nil {
				t.Fatal("session for an unknown user was accepted: foreign keys are not enforced")
			}
		}},
		{"rotation moves the session to the new hash with its factors", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			sess := fixtureSession("old", "u1")
			must(t, s.CreateSession(ctx, sess))
			factors := []FactorRecord{{Method: "pwd", At: confT0}, {Method: "email", At: at(time.Minute)}}
			must(t, s.RotateSession(ctx, "old", "new", factors, at(time.Minute)))

			_, err := s.GetSession(ctx, "old")
			wantErr(t, err, ErrNotFound)
			got, err := s.GetSession(ctx, "new")
			must(t, err)
			want := *sess
			want.IDHash, want.Factors, want.LastSeenAt = "new", factors, at(time.Minute)
			sameRecord(t, got, &want)
		}},
		{"rotating a gone session is not found", func(t *testing.T, s Store) {
			wantErr(t, s.RotateSession(t.Context(), "gone", "new", nil, confT0), ErrNotFound)
		}},
		{"two racing rotations of one session: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateSession(ctx, fixtureSession("old", "u1")))
			errs := concurrently(t, s, 10, func(i int) error {
				return s.RotateSession(ctx, "old", fmt.Sprintf("new%d", i), nil, at(time.Minute))
			})
			wantWinners(t, errs, 1, ErrNotFound)
		}},
		{"touch records when the session was last seen", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateSession(ctx, fixtureSession("h1", "u1")))
			must(t, s.TouchSession(ctx, "h1", at(time.Hour)))
			got, err := s.GetSession(ctx, "h1")
			must(t, err)
			sameTime(t, "LastSeenAt", got.LastSeenAt, at(time.Hour))
			wantErr(t, s.TouchSession(ctx, "nope", confT0), ErrNotFound)
		}},
		{"delete removes one session", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			must(t, s.CreateSession(ctx, fixtureSession("h1", "u1")))
			must(t, s.CreateSession(ctx, fixtureSession("h2", "u1")))
			must(t, s.DeleteSession(ctx, "h1"))
			_, err := s.GetSession(ctx, "h1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetSession(ctx, "h2")
			must(t, err)
			wantErr(t, s.DeleteSession(ctx, "h1"), ErrNotFound)
		}},
		{"deleting a user's sessions leaves other users' sessions", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			seedUser(t, s, "u2")
			must(t, s.CreateSession(ctx, fixtureSession("h1", "u1")))
			must(t, s.CreateSession(ctx, fixtureSession("h2", "u1")))
			must(t, s.CreateSession(ctx, fixtureSession("h3", "u2")))
			must(t, s.DeleteUserSessions(ctx, "u1"))
			for _, h := range []string{"h1", "h2"} {
				_, err := s.GetSession(ctx, h)
				wantErr(t, err, ErrNotFound)
			}
			_, err := s.GetSession(ctx, "h3")
			must(t, err)
			must(t, s.DeleteUserSessions(ctx, "nobody"))
		}},
		{"expired and idle sessions are swept", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			now, idle := at(24*time.Hour), 2*time.Hour
			expired := fixtureSession("expired", "u1")
			expired.LastSeenAt, expired.ExpiresAt = now, now // ends exactly now
			idleOne := fixtureSession("idle", "u1")
			idleOne.LastSeenAt, idleOne.ExpiresAt = now.Add(-idle), now.Add(time.Hour)
			fresh := fixtureSession("fresh", "u1")
			fresh.LastSeenAt, fresh.ExpiresAt = now.Add(-idle+time.Second), now.Add(time.Millisecond)
			for _, sess := range []*Session{expired, idleOne, fresh} {
				must(t, s.CreateSession(ctx, sess))
			}
			n, err := s.DeleteExpiredSessions(ctx, now, idle)
			must(t, err)
			if n != 2 {
				t.Errorf("swept %d sessions, want 2", n)
			}
			_, err = s.GetSession(ctx, "fresh")
			must(t, err)
			for _, h := range []string{"expired", "idle"} {
				_, err := s.GetSession(ctx, h)
				wantErr(t, err, ErrNotFound)
			}
		}},
		{"no idle limit sweeps only expired sessions", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedUser(t, s, "u1")
			old := fixtureSession("old", "u1")
			old.ExpiresAt = at(48 * time.Hour)
			must(t, s.CreateSession(ctx, old))
			n, err := s.DeleteExpiredSessions(ctx, at(24*time.Hour), 0)
			must(t, err)
			if n != 0 {
				t.Errorf("swept %d sessions with no idle limit, want 0", n)
			}
		}},
	}
}

func fixtureAuthRequest(id, clientID string) *AuthRequest {
	maxAge := int64(300)
	return &AuthRequest{
		ID:       id,
		ClientID: clientID,
		Params: AuthParams{
			RedirectURI:         "https://" + clientID + ".example/cb",
			Scopes:              []string{"openid", "email", "profile"},
			State:               "state-" + id,
			Nonce:               "nonce-" + id,
			ResponseType:        "code",
			ResponseMode:        "query",
			CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			CodeChallengeMethod: "S256",
			Prompt:              []string{"login"},
			MaxAge:              &maxAge,
			LoginHint:           "ada@example.com",
			ACRValues:           []string{"mfa"},
			Claims:              `{"id_token":{"acr":{"essential":true}}}`,
			UILocales:           []string{"fr", "en"},
		},
		CreatedAt: confT0,
		ExpiresAt: at(30 * time.Minute),
	}
}

// seedCode stores a request, completes it for u1 and binds codeHash to it,
// valid for one minute after at(10m).
func seedCode(t *testing.T, s Store, id, codeHash string) {
	t.Helper()
	ctx := t.Context()
	must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest(id, "c1")))
	must(t, s.CompleteAuthRequest(ctx, id, "u1", "sess-"+id, at(10*time.Minute), []string{"pwd", "otp"}, "mfa"))
	must(t, s.SaveAuthCode(ctx, id, codeHash, at(11*time.Minute)))
}

func authRequestCases() []conformanceCase {
	return []conformanceCase{
		{"auth request round-trips with its parameters", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			r := fixtureAuthRequest("ar1", "c1")
			must(t, s.CreateAuthRequest(ctx, r))
			got, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			sameRecord(t, got, r)
			_, err = s.GetAuthRequest(ctx, "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"duplicate auth request id is a conflict", func(t *testing.T, s Store) {
			seedClient(t, s, "c1")
			must(t, s.CreateAuthRequest(t.Context(), fixtureAuthRequest("ar1", "c1")))
			wantErr(t, s.CreateAuthRequest(t.Context(), fixtureAuthRequest("ar1", "c1")), ErrConflict)
		}},
		{"completing records who logged in, how and when", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			r := fixtureAuthRequest("ar1", "c1")
			must(t, s.CreateAuthRequest(ctx, r))
			must(t, s.CompleteAuthRequest(ctx, "ar1", "u1", "sess", at(time.Minute), []string{"pwd", "otp"}, "mfa"))
			got, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			want := *r
			want.UserID, want.SessionHash, want.Done = "u1", "sess", true
			want.AuthTime, want.AMR, want.ACR = at(time.Minute), []string{"pwd", "otp"}, "mfa"
			sameRecord(t, got, &want)
			wantErr(t, s.CompleteAuthRequest(ctx, "nope", "u1", "sess", confT0, nil, ""), ErrNotFound)
		}},
		{"a code binds only to a completed request", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest("ar1", "c1")))
			wantErr(t, s.SaveAuthCode(ctx, "ar1", "code1", at(time.Minute)), ErrNotFound)
			wantErr(t, s.SaveAuthCode(ctx, "nope", "code1", at(time.Minute)), ErrNotFound)
			_, err := s.RedeemAuthCode(ctx, "code1", confT0)
			wantErr(t, err, ErrNotFound)
		}},
		{"a request takes one code and a code one request", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			wantErr(t, s.SaveAuthCode(ctx, "ar1", "code2", at(time.Hour)), ErrConflict)
			must(t, s.CreateAuthRequest(ctx, fixtureAuthRequest("ar2", "c1")))
			must(t, s.CompleteAuthRequest(ctx, "ar2", "u1", "sess", confT0, nil, ""))
			wantErr(t, s.SaveAuthCode(ctx, "ar2", "code1", at(time.Hour)), ErrConflict)
			got, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			if got.CodeHash != "code1" {
				t.Errorf("CodeHash = %q after a refused second code, want code1", got.CodeHash)
			}
			sameTime(t, "CodeExpiresAt", got.CodeExpiresAt, at(11*time.Minute))
		}},
		{"redeeming a code marks it used and returns its request", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			want, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			got, err := s.RedeemAuthCode(ctx, "code1", at(10*time.Minute+30*time.Second))
			must(t, err)
			want.CodeUsedAt = at(10*time.Minute + 30*time.Second)
			sameRecord(t, got, want)
			stored, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			sameRecord(t, stored, want)
		}},
		{"second redemption is already used and still names the request", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			_, err := s.RedeemAuthCode(ctx, "code1", at(10*time.Minute))
			must(t, err)
			// Even after expiry a replay reads as a replay, so its tokens are revoked.
			for _, now := range []time.Time{at(10*time.Minute + time.Second), at(time.Hour)} {
				r, err := s.RedeemAuthCode(ctx, "code1", now)
				wantErr(t, err, ErrAlreadyUsed)
				if r == nil || r.ID != "ar1" || r.UserID != "u1" {
					t.Fatalf("replay returned request %+v, want ar1 of u1", r)
				}
				sameTime(t, "CodeUsedAt", r.CodeUsedAt, at(10*time.Minute))
			}
		}},
		{"expired code is rejected and not marked used", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			for _, now := range []time.Time{at(11 * time.Minute), at(time.Hour)} { // expiry is exclusive
				_, err := s.RedeemAuthCode(ctx, "code1", now)
				wantErr(t, err, ErrExpired)
			}
			got, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			if !got.CodeUsedAt.IsZero() {
				t.Errorf("expired code marked used at %v", got.CodeUsedAt)
			}
		}},
		{"looking a code up returns its request and consumes nothing", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			want, err := s.GetAuthRequest(ctx, "ar1")
			must(t, err)
			for range 2 {
				got, err := s.GetAuthRequestByCode(ctx, "code1")
				must(t, err)
				sameRecord(t, got, want)
			}
			_, err = s.RedeemAuthCode(ctx, "code1", at(10*time.Minute))
			must(t, err)
			got, err := s.GetAuthRequestByCode(ctx, "code1")
			must(t, err)
			sameTime(t, "CodeUsedAt", got.CodeUsedAt, at(10*time.Minute))
			_, err = s.GetAuthRequestByCode(ctx, "nope")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetAuthRequestByCode(ctx, "")
			wantErr(t, err, ErrNotFound)
		}},
		{"a redemption in a transaction that fails leaves the code usable", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			boom := errors.New("token creation failed")
			err := s.InTx(ctx, func(tx Store) error {
				if _, err := tx.RedeemAuthCode(ctx, "code1", at(10*time.Minute)); err != nil {
					return err
				}
				return boom
			})
			wantErr(t, err, boom)
			_, err = s.RedeemAuthCode(ctx, "code1", at(10*time.Minute))
			must(t, err)
		}},
		{"unknown code is not found", func(t *testing.T, s Store) {
			_, err := s.RedeemAuthCode(t.Context(), "nope", confT0)
			wantErr(t, err, ErrNotFound)
			_, err = s.RedeemAuthCode(t.Context(), "", confT0)
			wantErr(t, err, ErrNotFound)
		}},
		{"two racing redemptions of one code: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			seedCode(t, s, "ar1", "code1")
			reqs := make([]*AuthRequest, 20)
			errs := concurrently(t, s, 20, func(i int) error {
				var err error
				reqs[i], err = s.RedeemAuthCode(ctx, "code1", at(10*time.Minute))
				return err
			})
			wantWinners(t, errs, 1, ErrAlreadyUsed)
			for i, r := range reqs {
				if r == nil || r.ID != "ar1" {
					t.Errorf("call %d (error %v) returned request %+v, want ar1", i, errs[i], r)
				}
			}
		}},
		{"expired requests are swept, but not while their code lives", func(t *testing.T, s Store) {
			ctx := t.Context()
			seedClient(t, s, "c1")
			old := fixtureAuthRequest("old", "c1")
			old.ExpiresAt = at(10 * time.Minute)
			must(t, s.CreateAuthRequest(ctx, old))
			withCode := fixtureAuthRequest("code", "c1")
			withCode.ExpiresAt = at(10 * time.Minute)
			must(t, s.CreateAuthRequest(ctx, withCode))
			must(t, s.CompleteAuthRequest(ctx, "code", "u1", "sess", at(9*time.Minute), nil, ""))
			must(t, s.SaveAuthCode(ctx, "code", "code1", at(20*time.Minute)))
			fresh := fixtureAuthRequest("fresh", "c1")
			fresh.ExpiresAt = at(30 * time.Minute)
			must(t, s.CreateAuthRequest(ctx, fresh))

			for _, step := range []struct {
				now  time.Time
				want int64
				gone string
			}{{at(15 * time.Minute), 1, "old"}, {at(20 * time.Minute), 1, "code"}, {at(25 * time.Minute), 0, ""}} {
				n, err := s.DeleteExpiredAuthRequests(ctx, step.now)
				must(t, err)
				if n != step.want {
					t.Errorf("at %v swept %d, want %d", step.now, n, step.want)
				}
				if step.gone != "" {
					_, err = s.GetAuthRequest(ctx, step.gone)
					wantErr(t, err, ErrNotFound)
				}
			}
			_, err := s.GetAuthRequest(ctx, "fresh")
			must(t, err)
		}},
	}
}
