package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const consoleSessionColumns = `id_hash, user_id, auth_time, mfa_at, id_token, pending, created_at, last_seen_at, expires_at`

const (
	qInsertConsoleSession = `INSERT INTO console_sessions (` + consoleSessionColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qConsoleSessionByHash = `SELECT ` + consoleSessionColumns + ` FROM console_sessions WHERE id_hash = ?`
	qTouchConsoleSession  = `UPDATE console_sessions SET last_seen_at = ? WHERE id_hash = ?`
	qSetConsolePending    = `UPDATE console_sessions SET pending = ? WHERE id_hash = ?`
	qConsolePending       = `SELECT pending FROM console_sessions WHERE id_hash = ?`
	// Clears the pending action only if it is still the one read: of two
	// concurrent takes, one clears it and the other finds no row.
	qTakeConsolePending      = `UPDATE console_sessions SET pending = '' WHERE id_hash = ? AND pending = ?`
	qDeleteConsoleSession    = `DELETE FROM console_sessions WHERE id_hash = ?`
	qDeleteConsoleSessions   = `DELETE FROM console_sessions WHERE user_id = ?`
	qExpireConsoleByEnd      = `DELETE FROM console_sessions WHERE expires_at <= ?`
	qExpireConsoleByIdleness = `DELETE FROM console_sessions WHERE last_seen_at <= ?`
)

func (s *Store) CreateConsoleSession(ctx context.Context, cs *storage.ConsoleSession) error {
	_, err := s.exec(ctx, qInsertConsoleSession, cs.IDHash, cs.UserID, ms(cs.AuthTime), ms(cs.MFAAt), cs.IDToken,
		cs.Pending, ms(cs.CreatedAt), ms(cs.LastSeenAt), ms(cs.ExpiresAt))
	return err
}

func (s *Store) GetConsoleSession(ctx context.Context, idHash string) (*storage.ConsoleSession, error) {
	var cs storage.ConsoleSession
	err := s.queryRow(ctx, qConsoleSessionByHash, idHash).Scan(&cs.IDHash, &cs.UserID, (*msTime)(&cs.AuthTime), (*msTime)(&cs.MFAAt),
		&cs.IDToken, &cs.Pending, (*msTime)(&cs.CreatedAt), (*msTime)(&cs.LastSeenAt), (*msTime)(&cs.ExpiresAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &cs, nil
}

func (s *Store) TouchConsoleSession(ctx context.Context, idHash string, now time.Time) error {
	return s.execOne(ctx, qTouchConsoleSession, ms(now), idHash)
}

func (s *Store) SetConsolePending(ctx context.Context, idHash, pending string) error {
	return s.execOne(ctx, qSetConsolePending, pending, idHash)
}

func (s *Store) TakeConsolePending(ctx context.Context, idHash string) (string, error) {
	var pending string
	if err := s.queryRow(ctx, qConsolePending, idHash).Scan(&pending); err != nil {
		return "", mapErr(err)
	}
	if pending == "" {
		return "", nil
	}
	if err := s.execOne(ctx, qTakeConsolePending, idHash, pending); errors.Is(err, storage.ErrNotFound) {
		return "", nil // taken meanwhile
	} else if err != nil {
		return "", err
	}
	return pending, nil
}

func (s *Store) DeleteConsoleSession(ctx context.Context, idHash string) error {
	return s.execOne(ctx, qDeleteConsoleSession, idHash)
}
