package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const bindingColumns = `id, user_id, kind, sealed_secret, created_at, confirmed_at, last_used_step, last_used_at`

const (
	qInsertBinding = `INSERT INTO factor_bindings (` + bindingColumns + `) VALUES (?, ?, ?, ?, ?, 0, ?, 0)`
	// The schema allows one pending and one confirmed binding per user and
	// kind (two partial unique indexes).
	qDeletePending = `DELETE FROM factor_bindings WHERE user_id = ? AND kind = ? AND confirmed_at = 0`
	// Confirmed first: that is the binding a login checks.
	qBindingOfKind = `SELECT ` + bindingColumns + ` FROM factor_bindings WHERE user_id = ? AND kind = ?
		ORDER BY CASE WHEN confirmed_at = 0 THEN 1 ELSE 0 END LIMIT 1`
	qListBindings    = `SELECT ` + bindingColumns + ` FROM factor_bindings WHERE user_id = ? ORDER BY created_at, id`
	qPendingByID     = `SELECT user_id, kind FROM factor_bindings WHERE id = ? AND confirmed_at = 0`
	qDeleteConfirmed = `DELETE FROM factor_bindings WHERE user_id = ? AND kind = ? AND confirmed_at <> 0`
	qConfirmBinding  = `UPDATE factor_bindings SET confirmed_at = ?, last_used_step = ? WHERE id = ? AND confirmed_at = 0`
	qUseTOTPStep     = `UPDATE factor_bindings SET last_used_step = ?
		WHERE id = ? AND last_used_step < ? AND confirmed_at <> 0`
	qUseTOTPStepAt = `UPDATE factor_bindings SET last_used_step = ?, last_used_at = ?
		WHERE id = ? AND last_used_step < ? AND confirmed_at <> 0`
	qConfirmedExists = `SELECT COUNT(*) FROM factor_bindings WHERE id = ? AND confirmed_at <> 0`
	qDeleteFactors   = `DELETE FROM factor_bindings WHERE user_id = ? AND kind = ?`
	qDeleteKind      = `DELETE FROM factor_bindings WHERE kind = ?`
	qCountKind       = `SELECT COUNT(*) FROM factor_bindings WHERE kind = ? AND confirmed_at <> 0`
)

const emailCodeColumns = `id, user_id, purpose, bound_to, code_hash, created_at, expires_at, used_at`

const (
	qInsertEmailCode = `INSERT INTO email_codes (` + emailCodeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qLatestEmailCode = `SELECT ` + emailCodeColumns + ` FROM email_codes
		WHERE user_id = ? AND purpose = ? AND bound_to = ? ORDER BY created_at DESC, id DESC LIMIT 1`
	qUseEmailCode    = `UPDATE email_codes SET used_at = ? WHERE id = ? AND used_at = 0`
	qEmailCodeExists = `SELECT COUNT(*) FROM email_codes WHERE id = ?`
)

const (
	qDeleteBackupCodes    = `DELETE FROM backup_codes WHERE user_id = ?`
	qDeleteAllBackupCodes = `DELETE FROM backup_codes`
	qInsertBackupCode     = `INSERT INTO backup_codes (id, user_id, code_hash, created_at, used_at) VALUES (?, ?, ?, ?, 0)`
	qUseBackupCode        = `UPDATE backup_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at = 0`
	qCountBackupCodes     = `SELECT COUNT(*) FROM backup_codes WHERE user_id = ? AND used_at = 0`
)

func scanBinding(row scanner) (*storage.FactorBinding, error) {
	var b storage.FactorBinding
	err := row.Scan(&b.ID, &b.UserID, &b.Kind, &b.SealedSecret, (*msTime)(&b.CreatedAt), (*msTime)(&b.ConfirmedAt),
		&b.LastUsedStep, (*msTime)(&b.LastUsedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &b, nil
}

func scanEmailCode(row scanner) (*storage.EmailCode, error) {
	var c storage.EmailCode
	err := row.Scan(&c.ID, &c.UserID, &c.Purpose, &c.BoundTo, &c.CodeHash, (*msTime)(&c.CreatedAt),
		(*msTime)(&c.ExpiresAt), (*msTime)(&c.UsedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

// PutPendingFactor stores b as the user's pending binding of its kind,
// dropping an earlier pending one; b.ConfirmedAt is ignored. Two concurrent
// calls for the same user and kind may leave the loser with ErrConflict.
func (s *Store) PutPendingFactor(ctx context.Context, b *storage.FactorBinding) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.exec(ctx, qDeletePending, b.UserID, b.Kind); err != nil {
			return err
		}
		_, err := t.exec(ctx, qInsertBinding, b.ID, b.UserID, b.Kind, blob(b.SealedSecret), ms(b.CreatedAt),
			b.LastUsedStep)
		return err
	})
}

// GetFactor returns the user's confirmed binding of the kind, or the pending
// one when none is confirmed. ListFactors shows both.
func (s *Store) GetFactor(ctx context.Context, userID, kind string) (*storage.FactorBinding, error) {
	return scanBinding(s.queryRow(ctx, qBindingOfKind, userID, kind))
}

func (s *Store) ListFactors(ctx context.Context, userID string) ([]storage.FactorBinding, error) {
	return collect(ctx, s, scanBinding, qListBindings, userID)
}

// ConfirmFactor swaps the pending binding in for the confirmed one in one
// transaction; ErrNotFound if id is not a pending binding (also when a
// concurrent call confirmed it first).
func (s *Store) ConfirmFactor(ctx context.Context, id string, now time.Time, step int64) error {
	if now.IsZero() {
		return errors.New("sqlstore: confirming a factor needs a time")
	}
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		var userID, kind string
		if err := t.queryRow(ctx, qPendingByID, id).Scan(&userID, &kind); err != nil {
			return mapErr(err)
		}
		if _, err := t.exec(ctx, qDeleteConfirmed, userID, kind); err != nil {
			return err
		}
		return t.execOne(ctx, qConfirmBinding, ms(now), step, id)
	})
}

// UseTOTPStep is one conditional UPDATE, so of two requests carrying the same
// step only one is accepted. ErrNotFound if there is no confirmed binding
// with that ID.
func (s *Store) UseTOTPStep(ctx context.Context, bindingID string, step int64) error {
	err := s.execOne(ctx, qUseTOTPStep, step, bindingID, step)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return s.usedOrMissing(ctx, qConfirmedExists, bindingID)
}

// UseTOTPStepAt is UseTOTPStep's statement that also sets last_used_at.
func (s *Store) UseTOTPStepAt(ctx context.Context, bindingID string, step int64, now time.Time) error {
	err := s.execOne(ctx, qUseTOTPStepAt, step, ms(now), bindingID, step)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return s.usedOrMissing(ctx, qConfirmedExists, bindingID)
}

// DeleteFactors removes the user's bindings of the kind, pending and
// confirmed. Backup codes are left alone.
func (s *Store) DeleteFactors(ctx context.Context, userID, kind string) error {
	_, err := s.exec(ctx, qDeleteFactors, userID, kind)
	return err
}

// DeleteAllFactorsOfKind removes every binding of the kind, pending ones
// included, and counts them all. It touches bindings only: backup codes of
// users left without a factor stay until DeleteBackupCodes.
func (s *Store) DeleteAllFactorsOfKind(ctx context.Context, kind string) (int64, error) {
	return s.execCount(ctx, qDeleteKind, kind)
}

// CountFactorsOfKind counts confirmed bindings: the users who would be
// affected if the kind were withdrawn.
func (s *Store) CountFactorsOfKind(ctx context.Context, kind string) (int64, error) {
	var n int64
	err := s.queryRow(ctx, qCountKind, kind).Scan(&n)
	return n, mapErr(err)
}

func (s *Store) CreateEmailCode(ctx context.Context, c *storage.EmailCode) error {
	_, err := s.exec(ctx, qInsertEmailCode, c.ID, c.UserID, c.Purpose, c.BoundTo, c.CodeHash, ms(c.CreatedAt),
		ms(c.ExpiresAt), ms(c.UsedAt))
	return err
}

func (s *Store) LatestEmailCode(ctx context.Context, userID, purpose, boundTo string) (*storage.EmailCode, error) {
	return scanEmailCode(s.queryRow(ctx, qLatestEmailCode, userID, purpose, boundTo))
}

// UseEmailCode does not look at expiry; the caller checks ExpiresAt first.
func (s *Store) UseEmailCode(ctx context.Context, id string, now time.Time) error {
	err := s.execOne(ctx, qUseEmailCode, ms(now), id)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return s.usedOrMissing(ctx, qEmailCodeExists, id)
}

// ReplaceBackupCodes swaps the whole set in one transaction. A repeated hash
// is ErrConflict and leaves the old set in place.
func (s *Store) ReplaceBackupCodes(ctx context.Context, userID string, hashes []string, now time.Time) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.exec(ctx, qDeleteBackupCodes, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := t.exec(ctx, qInsertBackupCode, rand.Text(), userID, h, ms(now)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) UseBackupCode(ctx context.Context, userID, codeHash string, now time.Time) error {
	return s.execOne(ctx, qUseBackupCode, ms(now), userID, codeHash)
}

func (s *Store) CountUnusedBackupCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.queryRow(ctx, qCountBackupCodes, userID).Scan(&n)
	return n, mapErr(err)
}

func (s *Store) DeleteBackupCodes(ctx context.Context, userID string) error {
	_, err := s.exec(ctx, qDeleteBackupCodes, userID)
	return err
}

func (s *Store) DeleteAllBackupCodes(ctx context.Context) (int64, error) {
	res, err := s.exec(ctx, qDeleteAllBackupCodes)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
