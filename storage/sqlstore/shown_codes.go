package sqlstore

import (
	"context"

	"github.com/stepgate/stepgate/storage"
)

const (
	qPutShownCodes = `INSERT INTO shown_backup_codes (auth_request_id, user_id, session_hash, sealed, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (auth_request_id) DO UPDATE SET user_id = excluded.user_id,
			session_hash = excluded.session_hash, sealed = excluded.sealed, created_at = excluded.created_at`
	qGetShownCodes = `SELECT auth_request_id, user_id, session_hash, sealed, created_at
		FROM shown_backup_codes WHERE auth_request_id = ?`
	qDeleteShownCodes = `DELETE FROM shown_backup_codes WHERE auth_request_id = ?`
)

func (s *Store) PutShownBackupCodes(ctx context.Context, c *storage.ShownBackupCodes) error {
	_, err := s.exec(ctx, qPutShownCodes, c.AuthRequestID, c.UserID, c.SessionHash, blob(c.Sealed), ms(c.CreatedAt))
	return err
}

func (s *Store) GetShownBackupCodes(ctx context.Context, authRequestID string) (*storage.ShownBackupCodes, error) {
	var c storage.ShownBackupCodes
	err := s.queryRow(ctx, qGetShownCodes, authRequestID).Scan(&c.AuthRequestID, &c.UserID, &c.SessionHash, &c.Sealed,
		(*msTime)(&c.CreatedAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &c, nil
}

func (s *Store) DeleteShownBackupCodes(ctx context.Context, authRequestID string) error {
	return s.execOne(ctx, qDeleteShownCodes, authRequestID)
}
