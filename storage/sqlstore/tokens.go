package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const tokenColumns = `id, client_id, user_id, audience, scopes, amr, acr, auth_time, auth_request_id,
	refresh_token_id, created_at, expires_at, revoked_at`

const refreshColumns = `id, token_hash, family_id, client_id, user_id, audience, scopes, amr, acr, auth_time,
	auth_request_id, created_at, expires_at, used_at, revoked_at`

// Revocations keep the first revocation time: revoked_at is only set where
// it is still 0.
const (
	qInsertToken   = `INSERT INTO tokens (` + tokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTokenByID     = `SELECT ` + tokenColumns + ` FROM tokens WHERE id = ?`
	qRevokeToken   = `UPDATE tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`
	qInsertRefresh = `INSERT INTO refresh_tokens (` + refreshColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qRefreshByHash = `SELECT ` + refreshColumns + ` FROM refresh_tokens WHERE token_hash = ?`
	qUseRefresh    = `UPDATE refresh_tokens SET used_at = ? WHERE id = ? AND used_at = 0 AND revoked_at = 0`
	qRefreshExists = `SELECT COUNT(*) FROM refresh_tokens WHERE id = ?`

	qRevokeFamily       = `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0`
	qRevokeFamilyAccess = `UPDATE tokens SET revoked_at = ? WHERE revoked_at = 0
		AND refresh_token_id IN (SELECT id FROM refresh_tokens WHERE family_id = ?)`

	// Families that started from (or were rotated with) the auth request.
	requestFamilies            = `SELECT family_id FROM refresh_tokens WHERE auth_request_id = ?`
	qRevokeRequestAccess       = `UPDATE tokens SET revoked_at = ? WHERE auth_request_id = ? AND revoked_at = 0`
	qRevokeRequestFamilyAccess = `UPDATE tokens SET revoked_at = ? WHERE revoked_at = 0
		AND refresh_token_id IN (SELECT id FROM refresh_tokens WHERE family_id IN (` + requestFamilies + `))`
	qRevokeRequestFamilies = `UPDATE refresh_tokens SET revoked_at = ? WHERE revoked_at = 0
		AND family_id IN (` + requestFamilies + `)`

	qRevokeUserClientAccess  = `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at = 0`
	qRevokeUserClientRefresh = `UPDATE refresh_tokens SET revoked_at = ?
		WHERE user_id = ? AND client_id = ? AND revoked_at = 0`

	qExpireTokens  = `DELETE FROM tokens WHERE expires_at <= ?`
	qExpireRefresh = `DELETE FROM refresh_tokens WHERE expires_at <= ?`
)

func scanToken(row scanner) (*storage.Token, error) {
	var t storage.Token
	err := row.Scan(&t.ID, &t.ClientID, &t.UserID, (*jsonList)(&t.Audience), (*jsonList)(&t.Scopes),
		(*jsonList)(&t.AMR), &t.ACR, (*msTime)(&t.AuthTime), &t.AuthRequestID, &t.RefreshTokenID,
		(*msTime)(&t.CreatedAt), (*msTime)(&t.ExpiresAt), (*msTime)(&t.RevokedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &t, nil
}

func scanRefresh(row scanner) (*storage.RefreshToken, error) {
	var t storage.RefreshToken
	err := row.Scan(&t.ID, &t.TokenHash, &t.FamilyID, &t.ClientID, &t.UserID, (*jsonList)(&t.Audience),
		(*jsonList)(&t.Scopes), (*jsonList)(&t.AMR), &t.ACR, (*msTime)(&t.AuthTime), &t.AuthRequestID,
		(*msTime)(&t.CreatedAt), (*msTime)(&t.ExpiresAt), (*msTime)(&t.UsedAt), (*msTime)(&t.RevokedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &t, nil
}

func (s *Store) CreateToken(ctx context.Context, t *storage.Token) error {
	_, err := s.exec(ctx, qInsertToken, t.ID, t.ClientID, t.UserID, jsonList(t.Audience), jsonList(t.Scopes),
		jsonList(t.AMR), t.ACR, ms(t.AuthTime), t.AuthRequestID, t.RefreshTokenID, ms(t.CreatedAt), ms(t.ExpiresAt),
		ms(t.RevokedAt))
	return err
}

func (s *Store) GetToken(ctx context.Context, id string) (*storage.Token, error) {
	return scanToken(s.queryRow(ctx, qTokenByID, id))
}

// RevokeToken is idempotent: revoking a revoked token keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, id string, now time.Time) error {
	return s.execOne(ctx, qRevokeToken, ms(now), id)
}

func (s *Store) CreateRefreshToken(ctx context.Context, t *storage.RefreshToken) error {
	_, err := s.exec(ctx, qInsertRefresh, t.ID, t.TokenHash, t.FamilyID, t.ClientID, t.UserID, jsonList(t.Audience),
		jsonList(t.Scopes), jsonList(t.AMR), t.ACR, ms(t.AuthTime), t.AuthRequestID, ms(t.CreatedAt),
		ms(t.ExpiresAt), ms(t.UsedAt), ms(t.RevokedAt))
	return err
}

func (s *Store) GetRefreshTokenByHash(ctx context.Context, tokenHash string) (*storage.RefreshToken, error) {
	return scanRefresh(s.queryRow(ctx, qRefreshByHash, tokenHash))
}

// UseRefreshToken succeeds for exactly one caller. A revoked token counts as
// used: it must not be exchanged, and the caller treats it as a replay. It
// does not look at expiry; the caller checks ExpiresAt before using.
func (s *Store) UseRefreshToken(ctx context.Context, id string, now time.Time) error {
	err := s.execOne(ctx, qUseRefresh, ms(now), id)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return s.usedOrMissing(ctx, qRefreshExists, id)
}

func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.exec(ctx, qRevokeFamilyAccess, ms(now), familyID); err != nil {
			return err
		}
		_, err := t.exec(ctx, qRevokeFamily, ms(now), familyID)
		return err
	})
}

// RevokeAuthRequestTokens revokes the access tokens issued from the code and
// every refresh family that came from it, with those families' access
// tokens. An empty ID revokes nothing (tokens from other grants carry "").
func (s *Store) RevokeAuthRequestTokens(ctx context.Context, authRequestID string, now time.Time) error {
	if authRequestID == "" {
		return nil
	}
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		for _, q := range []string{qRevokeRequestAccess, qRevokeRequestFamilyAccess, qRevokeRequestFamilies} {
			if _, err := t.exec(ctx, q, ms(now), authRequestID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) RevokeUserClientTokens(ctx context.Context, userID, clientID string, now time.Time) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.exec(ctx, qRevokeUserClientAccess, ms(now), userID, clientID); err != nil {
			return err
		}
		_, err := t.exec(ctx, qRevokeUserClientRefresh, ms(now), userID, clientID)
		return err
	})
}

// DeleteExpiredTokens removes access and refresh tokens that expired at or
// before the given time. Once a used refresh token is deleted, presenting it
// again reads as unknown rather than as a replay; it is expired either way.
func (s *Store) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		for _, q := range []string{qExpireTokens, qExpireRefresh} {
			n, err := t.execCount(ctx, q, ms(before))
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	return total, err
}
