package storage

import (
	"testing"
	"time"
)

func fixtureToken(id, clientID, userID, authRequestID, refreshTokenID string) *Token {
	return &Token{
		ID:             id,
		ClientID:       clientID,
		UserID:         userID,
		Audience:       []string{clientID},
		Scopes:         []string{"openid", "email"},
		AMR:            []string{"pwd", "otp"},
		ACR:            "mfa",
		AuthTime:       at(-time.Minute),
		AuthRequestID:  authRequestID,
		RefreshTokenID: refreshTokenID,
		CreatedAt:      confT0,
		ExpiresAt:      at(time.Hour),
	}
}

func fixtureRefresh(id, familyID, clientID, userID, authRequestID string) *RefreshToken {
	return &RefreshToken{
		ID:            id,
		TokenHash:     "hash-" + id,
		FamilyID:      familyID,
		ClientID:      clientID,
		UserID:        userID,
		Audience:      []string{clientID},
		Scopes:        []string{"openid", "offline_access"},
		AMR:           []string{"pwd"},
		ACR:           "pwd",
		AuthTime:      at(-time.Minute),
		AuthRequestID: authRequestID,
		CreatedAt:     confT0,
		ExpiresAt:     at(30 * 24 * time.Hour),
	}
}

// tokenWorld holds two users, two clients, and whatever tokens a case adds.
func tokenWorld(t *testing.T, s Store) {
	t.Helper()
	seedUser(t, s, "u1")
	seedUser(t, s, "u2")
	seedClient(t, s, "c1")
	seedClient(t, s, "c2")
}

// wantRevoked checks that the named access tokens ("a…") and refresh tokens
// ("r…", found by fixture hash) were revoked at now, or are intact.
func wantRevoked(t *testing.T, s Store, now time.Time, revoked, intact []string) {
	t.Helper()
	ctx := t.Context()
	check := func(id string, want bool) {
		t.Helper()
		var when time.Time
		if id[0] == 'r' {
			rt, err := s.GetRefreshTokenByHash(ctx, "hash-"+id)
			must(t, err)
			when = rt.RevokedAt
		} else {
			tok, err := s.GetToken(ctx, id)
			must(t, err)
			when = tok.RevokedAt
		}
		switch {
		case want && !when.Equal(now.Truncate(time.Millisecond)):
			t.Errorf("%s revoked at %v, want %v", id, when, now.Truncate(time.Millisecond))
		case !want && !when.IsZero():
			t.Errorf("%s revoked at %v, want intact", id, when)
		}
	}
	for _, id := range revoked {
		check(id, true)
	}
	for _, id := range intact {
		check(id, false)
	}
}

func tokenCases() []conformanceCase {
	return []conformanceCase{
		{"access token round-trips", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			tok := fixtureToken("a1", "c1", "u1", "ar1", "r1")
			tok.Audience = []string{"c1", "api"}
			must(t, s.CreateToken(ctx, tok))
			got, err := s.GetToken(ctx, "a1")
			must(t, err)
			sameRecord(t, got, tok)
			_, err = s.GetToken(ctx, "nope")
			wantErr(t, err, ErrNotFound)
			wantErr(t, s.CreateToken(ctx, fixtureToken("a1", "c1", "u1", "", "")), ErrConflict)
		}},
		{"revoking a token keeps the first revocation time", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateToken(ctx, fixtureToken("a1", "c1", "u1", "", "")))
			must(t, s.RevokeToken(ctx, "a1", at(time.Minute)))
			must(t, s.RevokeToken(ctx, "a1", at(time.Hour)))
			wantRevoked(t, s, at(time.Minute), []string{"a1"}, nil)
			wantErr(t, s.RevokeToken(ctx, "nope", confT0), ErrNotFound)
		}},
		{"refresh token round-trips by hash", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			rt := fixtureRefresh("r1", "f1", "c1", "u1", "ar1")
			must(t, s.CreateRefreshToken(ctx, rt))
			got, err := s.GetRefreshTokenByHash(ctx, "hash-r1")
			must(t, err)
			sameRecord(t, got, rt)
			_, err = s.GetRefreshTokenByHash(ctx, "nope")
			wantErr(t, err, ErrNotFound)
		}},
		{"duplicate refresh token id or hash is a conflict", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			sameID := fixtureRefresh("r1", "f1", "c1", "u1", "")
			sameID.TokenHash = "other"
			wantErr(t, s.CreateRefreshToken(ctx, sameID), ErrConflict)
			sameHash := fixtureRefresh("r2", "f1", "c1", "u1", "")
			sameHash.TokenHash = "hash-r1"
			wantErr(t, s.CreateRefreshToken(ctx, sameHash), ErrConflict)
		}},
		{"used refresh token is rejected", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			must(t, s.UseRefreshToken(ctx, "r1", at(time.Minute)))
			wantErr(t, s.UseRefreshToken(ctx, "r1", at(2*time.Minute)), ErrAlreadyUsed)
			got, err := s.GetRefreshTokenByHash(ctx, "hash-r1")
			must(t, err)
			sameTime(t, "UsedAt", got.UsedAt, at(time.Minute))
		}},
		{"revoked refresh token is rejected", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			must(t, s.RevokeRefreshFamily(ctx, "f1", at(time.Minute)))
			wantErr(t, s.UseRefreshToken(ctx, "r1", at(2*time.Minute)), ErrAlreadyUsed)
		}},
		{"unknown refresh token cannot be used", func(t *testing.T, s Store) {
			wantErr(t, s.UseRefreshToken(t.Context(), "nope", confT0), ErrNotFound)
		}},
		{"two racing uses of one refresh token: exactly one wins", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			errs := concurrently(t, s, 20, func(int) error { return s.UseRefreshToken(ctx, "r1", at(time.Minute)) })
			wantWinners(t, errs, 1, ErrAlreadyUsed)
		}},
		{"revoking a family revokes its refresh and access tokens only", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			for _, rt := range []*RefreshToken{
				fixtureRefresh("r1", "f1", "c1", "u1", "ar1"),
				fixtureRefresh("r2", "f1", "c1", "u1", ""),
				fixtureRefresh("r3", "f2", "c1", "u1", "ar2"),
			} {
				must(t, s.CreateRefreshToken(ctx, rt))
			}
			for _, tok := range []*Token{
				fixtureToken("a1", "c1", "u1", "ar1", "r1"),
				fixtureToken("a2", "c1", "u1", "", "r2"),
				fixtureToken("a3", "c1", "u1", "ar2", "r3"),
				fixtureToken("a4", "c1", "u1", "", ""),
			} {
				must(t, s.CreateToken(ctx, tok))
			}
			must(t, s.RevokeRefreshFamily(ctx, "f1", at(time.Minute)))
			must(t, s.RevokeRefreshFamily(ctx, "f1", at(time.Hour))) // keeps the first time
			wantRevoked(t, s, at(time.Minute), []string{"r1", "r2", "a1", "a2"}, []string{"r3", "a3", "a4"})
		}},
		{"reused code revokes everything issued from it", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			// ar1's code gave a1 and family f1 (r1, rotated to r2 with a2);
			// ar2 and tokens from no code at all must survive.
			for _, rt := range []*RefreshToken{
				fixtureRefresh("r1", "f1", "c1", "u1", "ar1"),
				fixtureRefresh("r2", "f1", "c1", "u1", ""),
				fixtureRefresh("r3", "f2", "c1", "u1", "ar2"),
				fixtureRefresh("r4", "f3", "c1", "u1", ""),
			} {
				must(t, s.CreateRefreshToken(ctx, rt))
			}
			for _, tok := range []*Token{
				fixtureToken("a1", "c1", "u1", "ar1", "r1"),
				fixtureToken("a2", "c1", "u1", "", "r2"),
				fixtureToken("a3", "c1", "u1", "ar2", "r3"),
				fixtureToken("a4", "c1", "u1", "", ""),
				fixtureToken("a5", "c1", "u1", "ar1", ""),
			} {
				must(t, s.CreateToken(ctx, tok))
			}
			must(t, s.RevokeAuthRequestTokens(ctx, "", at(time.Minute)))
			wantRevoked(t, s, at(time.Minute), nil, []string{"r1", "r2", "r3", "r4", "a1", "a2", "a3", "a4", "a5"})
			must(t, s.RevokeAuthRequestTokens(ctx, "ar1", at(time.Minute)))
			wantRevoked(t, s, at(time.Minute), []string{"r1", "r2", "a1", "a2", "a5"}, []string{"r3", "r4", "a3", "a4"})
		}},
		{"logout revokes a user's tokens for one client only", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r2", "f2", "c2", "u1", "")))
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r3", "f3", "c1", "u2", "")))
			must(t, s.CreateToken(ctx, fixtureToken("a1", "c1", "u1", "", "")))
			must(t, s.CreateToken(ctx, fixtureToken("a2", "c2", "u1", "", "")))
			must(t, s.CreateToken(ctx, fixtureToken("a3", "c1", "u2", "", "")))
			must(t, s.RevokeUserClientTokens(ctx, "u1", "c1", at(time.Minute)))
			wantRevoked(t, s, at(time.Minute), []string{"r1", "a1"}, []string{"r2", "r3", "a2", "a3"})
		}},
		{"expired tokens are swept", func(t *testing.T, s Store) {
			ctx := t.Context()
			tokenWorld(t, s)
			short := fixtureToken("a1", "c1", "u1", "", "")
			short.ExpiresAt = at(time.Hour)
			long := fixtureToken("a2", "c1", "u1", "", "")
			long.ExpiresAt = at(time.Hour + time.Millisecond)
			shortRT := fixtureRefresh("r1", "f1", "c1", "u1", "")
			shortRT.ExpiresAt = at(time.Hour)
			longRT := fixtureRefresh("r2", "f1", "c1", "u1", "")
			longRT.ExpiresAt = at(24 * time.Hour)
			must(t, s.CreateToken(ctx, short))
			must(t, s.CreateToken(ctx, long))
			must(t, s.CreateRefreshToken(ctx, shortRT))
			must(t, s.CreateRefreshToken(ctx, longRT))

			n, err := s.DeleteExpiredTokens(ctx, at(time.Hour))
			must(t, err)
			if n != 2 {
				t.Errorf("swept %d tokens, want 2", n)
			}
			_, err = s.GetToken(ctx, "a1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetRefreshTokenByHash(ctx, "hash-r1")
			wantErr(t, err, ErrNotFound)
			_, err = s.GetToken(ctx, "a2")
			must(t, err)
			_, err = s.GetRefreshTokenByHash(ctx, "hash-r2")
			must(t, err)
		}},
	}
}

func fixtureSigningKey(id string, created time.Time) *SigningKey {
	return &SigningKey{
		ID:            id,
		Algorithm:     "ES256",
		SealedPrivate: []byte{0x00, 0xff, 0x10, 0x80, 'k', byte(len(id))},
		PublicJWK:     []byte(`{"kty":"EC","crv":"P-256","kid":"` + id + `","x":"f83O","y":"x_FE"}`),
		CreatedAt:     created,
		ActiveAt:      created.Add(time.Hour),
	}
}

func signingKeyCases() []conformanceCase {
	return []conformanceCase{
		{"signing keys round-trip oldest first", func(t *testing.T, s Store) {
			ctx := t.Context()
			list, err := s.ListSigningKeys(ctx)
			must(t, err)
			if len(list) != 0 {
				t.Fatalf("fresh store has %d keys", len(list))
			}
			// Inserted out of order; equal creation times order by id.
			c := fixtureSigningKey("c", confT0)
			b := fixtureSigningKey("b", at(-time.Hour))
			a := fixtureSigningKey("a", confT0)
			a.Algorithm = "RS256"
			for _, k := range []*SigningKey{c, b, a} {
				must(t, s.CreateSigningKey(ctx, k))
			}
			list, err = s.ListSigningKeys(ctx)
			must(t, err)
			sameRecord(t, list, []SigningKey{*b, *a, *c})
		}},
		{"duplicate key id is a conflict", func(t *testing.T, s Store) {
			must(t, s.CreateSigningKey(t.Context(), fixtureSigningKey("k1", confT0)))
			wantErr(t, s.CreateSigningKey(t.Context(), fixtureSigningKey("k1", at(time.Hour))), ErrConflict)
		}},
		{"retiring a key records when", func(t *testing.T, s Store) {
			ctx := t.Context()
			k := fixtureSigningKey("k1", confT0)
			must(t, s.CreateSigningKey(ctx, k))
			must(t, s.RetireSigningKey(ctx, "k1", at(time.Hour)))
			list, err := s.ListSigningKeys(ctx)
			must(t, err)
			k.RetiredAt = at(time.Hour)
			sameRecord(t, list, []SigningKey{*k})
			wantErr(t, s.RetireSigningKey(ctx, "nope", confT0), ErrNotFound)
		}},
		{"deleting a key removes it", func(t *testing.T, s Store) {
			ctx := t.Context()
			must(t, s.CreateSigningKey(ctx, fixtureSigningKey("k1", confT0)))
			k2 := fixtureSigningKey("k2", confT0)
			must(t, s.CreateSigningKey(ctx, k2))
			must(t, s.DeleteSigningKey(ctx, "k1"))
			list, err := s.ListSigningKeys(ctx)
			must(t, err)
			sameRecord(t, list, []SigningKey{*k2})
			wantErr(t, s.DeleteSigningKey(ctx, "k1"), ErrNotFound)
		}},
	}
}
