package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const userColumns = `id, email, name, role, password_hash, disabled, mfa_bypass, last_factor,
	password_failures, password_locked_until, mfa_failures, mfa_locked_until, created_at, updated_at`

const (
	qInsertUser = `INSERT INTO users (` + userColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, ?, ?)`
	qUserByID   = `SELECT ` + userColumns + ` FROM users WHERE id = ?`
	qUserByMail = `SELECT ` + userColumns + ` FROM users WHERE email = ?`
	qUpdateUser = `UPDATE users SET email = ?, name = ?, role = ?, password_hash = ?, disabled = ?, mfa_bypass = ?,
		last_factor = ?, updated_at = ? WHERE id = ?`
	// The hash is replaced only while it is the one the caller checked.
	qSetPasswordHash = `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?`
	qSetLastFactor   = `UPDATE users SET last_factor = ? WHERE id = ?`
)

// reserveAttempt counts one attempt unless the account is locked. Old column
// values are visible throughout SET, so "expired lock" restarts the count at
// 1 and the attempt reaching the threshold sets the lock, all in one row
// update that concurrent transactions serialise on. The lock end is cast:
// PostgreSQL would otherwise type the CASE as integer and reject a Unix-ms
// value as out of range.
const reserveAttempt = `UPDATE users SET
	{p}_failures = CASE WHEN {p}_locked_until <> 0 THEN 1 ELSE {p}_failures + 1 END,
	{p}_locked_until = CASE WHEN (CASE WHEN {p}_locked_until <> 0 THEN 1 ELSE {p}_failures + 1 END) >= ?
		THEN CAST(? AS BIGINT) ELSE 0 END
	WHERE id = ? AND {p}_locked_until <= ?
	RETURNING {p}_failures, {p}_locked_until`

var (
	qReservePassword = strings.ReplaceAll(reserveAttempt, "{p}", "password")
	qReserveMFA      = strings.ReplaceAll(reserveAttempt, "{p}", "mfa")
	qLockPassword    = `SELECT password_failures, password_locked_until FROM users WHERE id = ?`
	qLockMFA         = `SELECT mfa_failures, mfa_locked_until FROM users WHERE id = ?`
	qResetPassword   = `UPDATE users SET password_failures = 0, password_locked_until = 0 WHERE id = ?`
	qResetMFA        = `UPDATE users SET mfa_failures = 0, mfa_locked_until = 0 WHERE id = ?`
)

func scanUser(row scanner) (*storage.User, error) {
	var u storage.User
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.Disabled, &u.MFABypass, &u.LastFactor,
		&u.PasswordFailures, (*msTime)(&u.PasswordLockedUntil), &u.MFAFailures, (*msTime)(&u.MFALockedUntil),
		(*msTime)(&u.CreatedAt), (*msTime)(&u.UpdatedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	u.Role = storage.Role(role)
	return &u, nil
}

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	u.Email = normalizeEmail(u.Email)
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	_, err := s.exec(ctx, qInsertUser, u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled, u.MFABypass,
		u.LastFactor, ms(u.CreatedAt), ms(u.UpdatedAt))
	return err
}

func (s *Store) GetUser(ctx context.Context, id string) (*storage.User, error) {
	return scanUser(s.queryRow(ctx, qUserByID, id))
}

func (s *Store) GetUserByEmail(ctx context.Context, email string) (*storage.User, error) {
	return scanUser(s.queryRow(ctx, qUserByMail, normalizeEmail(email)))
}

// UpdateUser reads the row (locked, see forUpdate), lets update change it
// and writes it back, in one transaction.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(u *storage.User) error) (*storage.User, error) {
	var out *storage.User
	err := s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		u, err := scanUser(t.queryRow(ctx, qUserByID+t.forUpdate(), id))
		if err != nil {
			return err
		}
		if err := update(u); err != nil {
			return err
		}
		u.ID, u.Email = id, normalizeEmail(u.Email)
		if !u.Role.Valid() {
			return &storage.FieldError{Field: "role", Reason: "must be owner, admin or member"}
		}
		if err := t.execOne(ctx, qUpdateUser, u.Email, u.Name, string(u.Role), u.PasswordHash, u.Disabled,
			u.MFABypass, u.LastFactor, ms(u.UpdatedAt), u.ID); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) SetPasswordHash(ctx context.Context, id, old, hash string, now time.Time) error {
	return s.execOne(ctx, qSetPasswordHash, hash, ms(now), id, old)
}

func (s *Store) SetLastFactor(ctx context.Context, id, factor string) error {
	return s.execOne(ctx, qSetLastFactor, factor, id)
}

func (s *Store) ReservePasswordAttempt(ctx context.Context, userID string, now time.Time, l storage.Lockout) (storage.FailureState, error) {
	return s.reserve(ctx, qReservePassword, qLockPassword, userID, now, l)
}

func (s *Store) ReserveMFAAttempt(ctx context.Context, userID string, now time.Time, l storage.Lockout) (storage.FailureState, error) {
	return s.reserve(ctx, qReserveMFA, qLockMFA, userID, now, l)
}

func (s *Store) reserve(ctx context.Context, update, current, userID string, now time.Time, l storage.Lockout) (storage.FailureState, error) {
	var st storage.FailureState
	err := s.queryRow(ctx, update, l.Threshold, now.Add(l.Duration).UnixMilli(), userID, now.UnixMilli()).
		Scan(&st.Failures, (*msTime)(&st.LockedUntil))
	if err == nil {
		return st, nil
	}
	if err = mapErr(err); !errors.Is(err, storage.ErrNotFound) {
		return st, err
	}
	// No row updated: either the user is unknown or the lock holds.
	if err := s.queryRow(ctx, current, userID).Scan(&st.Failures, (*msTime)(&st.LockedUntil)); err != nil {
		return st, mapErr(err)
	}
	return st, storage.ErrLocked
}

func (s *Store) ResetPasswordFailures(ctx context.Context, userID string) error {
	return s.execOne(ctx, qResetPassword, userID)
}

func (s *Store) ResetMFAFailures(ctx context.Context, userID string) error {
	return s.execOne(ctx, qResetMFA, userID)
}
