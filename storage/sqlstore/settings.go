package sqlstore

import (
	"context"
	"time"
)

const (
	qGetSetting = `SELECT value FROM settings WHERE key = ?`
	qPutSetting = `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
)

func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v string
	if err := s.queryRow(ctx, qGetSetting, key).Scan(&v); err != nil {
		return nil, mapErr(err)
	}
	return []byte(v), nil
}

// PutSetting creates or replaces the setting in one statement.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte, now time.Time) error {
	_, err := s.exec(ctx, qPutSetting, key, string(value), ms(now))
	return err
}
