package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// code_hash is NULL until a code is bound, so the UNIQUE constraint only
// compares real codes.
const authRequestColumns = `id, client_id, params, created_at, expires_at, user_id, session_hash, done, auth_time,
	amr, acr, COALESCE(code_hash, ''), code_expires_at, code_used_at`

const (
	qInsertAuthRequest = `INSERT INTO auth_requests (id, client_id, params, created_at, expires_at, user_id,
		session_hash, done, auth_time, amr, acr, code_hash, code_expires_at, code_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qAuthRequestByID   = `SELECT ` + authRequestColumns + ` FROM auth_requests WHERE id = ?`
	qAuthRequestByCode = `SELECT ` + authRequestColumns + ` FROM auth_requests WHERE code_hash = ?`
	qCompleteAuth      = `UPDATE auth_requests SET user_id = ?, session_hash = ?, done = ?, auth_time = ?, amr = ?,
		acr = ? WHERE id = ?`
	// A code is bound once, and only to a completed request.
	qSaveAuthCode = `UPDATE auth_requests SET code_hash = ?, code_expires_at = ?
		WHERE id = ? AND done = ? AND code_hash IS NULL`
	// Expiry is part of the condition: an expired code is never marked
	// used, so a later replay of it still reads as "expired", not "used".
	qRedeemAuthCode = `UPDATE auth_requests SET code_used_at = ?
		WHERE code_hash = ? AND code_used_at = 0 AND done = ? AND code_expires_at > ?
		RETURNING ` + authRequestColumns
	// A request outlives its own expiry while its code is still valid, so a
	// replayed code is recognised (and its tokens revoked) for the code's
	// whole lifetime.
	qExpireAuthRequests = `DELETE FROM auth_requests WHERE expires_at <= ? AND code_expires_at <= ?`
)

func scanAuthRequest(row scanner) (*storage.AuthRequest, error) {
	var r storage.AuthRequest
	err := row.Scan(&r.ID, &r.ClientID, jsonValue{&r.Params}, (*msTime)(&r.CreatedAt), (*msTime)(&r.ExpiresAt),
		&r.UserID, &r.SessionHash, &r.Done, (*msTime)(&r.AuthTime), (*jsonList)(&r.AMR), &r.ACR, &r.CodeHash,
		(*msTime)(&r.CodeExpiresAt), (*msTime)(&r.CodeUsedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// nullString stores "" as NULL.
func nullString(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }

func (s *Store) CreateAuthRequest(ctx context.Context, r *storage.AuthRequest) error {
	_, err := s.exec(ctx, qInsertAuthRequest, r.ID, r.ClientID, jsonValue{r.Params}, ms(r.CreatedAt), ms(r.ExpiresAt),
		r.UserID, r.SessionHash, r.Done, ms(r.AuthTime), jsonList(r.AMR), r.ACR, nullString(r.CodeHash),
		ms(r.CodeExpiresAt), ms(r.CodeUsedAt))
	return err
}

func (s *Store) GetAuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	return scanAuthRequest(s.queryRow(ctx, qAuthRequestByID, id))
}

func (s *Store) CompleteAuthRequest(ctx context.Context, id, userID, sessionHash string, authTime time.Time, amr []string, acr string) error {
	return s.execOne(ctx, qCompleteAuth, userID, sessionHash, true, ms(authTime), jsonList(amr), acr, id)
}

// SaveAuthCode binds the code to a completed request that has none yet:
// ErrNotFound if the request is unknown or not completed, ErrConflict if it
// already has a code or the hash is taken.
func (s *Store) SaveAuthCode(ctx context.Context, id, codeHash string, expiresAt time.Time) error {
	if codeHash == "" {
		return errors.New("sqlstore: empty authorization code hash")
	}
	err := s.execOne(ctx, qSaveAuthCode, codeHash, ms(expiresAt), id, true)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	r, err := s.GetAuthRequest(ctx, id)
	switch {
	case err != nil:
		return err
	case !r.Done:
		return storage.ErrNotFound
	default:
		return storage.ErrConflict
	}
}

// GetAuthRequestByCode reads the request behind a code without touching it.
func (s *Store) GetAuthRequestByCode(ctx context.Context, codeHash string) (*storage.AuthRequest, error) {
	if codeHash == "" {
		return nil, storage.ErrNotFound
	}
	return scanAuthRequest(s.queryRow(ctx, qAuthRequestByCode, codeHash))
}

// RedeemAuthCode decides in one conditional UPDATE. Only when it matches
// nothing is the row read to tell the caller why; "used" wins over
// "expired" so a replay is reported as one whenever it happens.
func (s *Store) RedeemAuthCode(ctx context.Context, codeHash string, now time.Time) (*storage.AuthRequest, error) {
	if codeHash == "" {
		return nil, storage.ErrNotFound
	}
	r, err := scanAuthRequest(s.queryRow(ctx, qRedeemAuthCode, ms(now), codeHash, true, ms(now)))
	if !errors.Is(err, storage.ErrNotFound) {
		return r, err
	}
	r, err = scanAuthRequest(s.queryRow(ctx, qAuthRequestByCode, codeHash))
	switch {
	case err != nil:
		return nil, err
	case !r.CodeUsedAt.IsZero():
		return r, storage.ErrAlreadyUsed
	case !r.Done:
		return nil, storage.ErrNotFound
	default:
		return nil, storage.ErrExpired
	}
}

// DeleteExpiredAuthRequests removes requests whose own lifetime and whose
// code's lifetime are both over.
func (s *Store) DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int64, error) {
	return s.execCount(ctx, qExpireAuthRequests, ms(now), ms(now))
}
