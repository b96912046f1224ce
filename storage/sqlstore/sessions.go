package sqlstore

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const sessionColumns = `id_hash, user_id, factors, created_at, last_seen_at, expires_at`

const (
	qInsertSession  = `INSERT INTO sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
	qSessionByHash  = `SELECT ` + sessionColumns + ` FROM sessions WHERE id_hash = ?`
	qRotateSession  = `UPDATE sessions SET id_hash = ?, factors = ?, last_seen_at = ? WHERE id_hash = ?`
	qTouchSession   = `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`
	qDeleteSession  = `DELETE FROM sessions WHERE id_hash = ?`
	qDeleteSessions = `DELETE FROM sessions WHERE user_id = ?`
	qExpireSessions = `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`

	qUserSessions = `SELECT ` + sessionColumns + ` FROM sessions WHERE user_id = ? AND expires_at > ?
		ORDER BY last_seen_at DESC, created_at DESC`
	// The clients a session completed logins for, while their requests last.
	qSessionClients = `SELECT DISTINCT session_hash, client_id FROM auth_requests
		WHERE user_id = ? AND done = ? AND session_hash <> '' ORDER BY session_hash, client_id`
	qUserSessionKeys      = `SELECT id_hash FROM sessions WHERE user_id = ?`
	qDeleteUserSessionKey = `DELETE FROM sessions WHERE id_hash = ? AND user_id = ?`
)

// factorList stores a session's factors as a JSON array, never "null".
func factorList(f []storage.FactorRecord) jsonValue {
	if f == nil {
		f = []storage.FactorRecord{}
	}
	return jsonValue{f}
}

func scanSession(row scanner) (*storage.Session, error) {
	var s storage.Session
	err := row.Scan(&s.IDHash, &s.UserID, jsonValue{&s.Factors}, (*msTime)(&s.CreatedAt), (*msTime)(&s.LastSeenAt),
		(*msTime)(&s.ExpiresAt))
	if err != nil {
		return nil, mapErr(err)
	}
	return &s, nil
}

func (s *Store) CreateSession(ctx context.Context, sess *storage.Session) error {
	_, err := s.exec(ctx, qInsertSession, sess.IDHash, sess.UserID, factorList(sess.Factors), ms(sess.CreatedAt),
		ms(sess.LastSeenAt), ms(sess.ExpiresAt))
	return err
}

func (s *Store) GetSession(ctx context.Context, idHash string) (*storage.Session, error) {
	return scanSession(s.queryRow(ctx, qSessionByHash, idHash))
}

// RotateSession is one UPDATE keyed on the old hash: of two concurrent
// rotations the second finds no row and gets ErrNotFound.
func (s *Store) RotateSession(ctx context.Context, oldHash, newHash string, factors []storage.FactorRecord, now time.Time) error {
	return s.execOne(ctx, qRotateSession, newHash, factorList(factors), ms(now), oldHash)
}

func (s *Store) TouchSession(ctx context.Context, idHash string, now time.Time) error {
	return s.execOne(ctx, qTouchSession, ms(now), idHash)
}

func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.execOne(ctx, qDeleteSession, idHash)
}

// DeleteUserSessions deletes the SSO and the console sessions in one
// transaction.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		if _, err := t.exec(ctx, qDeleteSessions, userID); err != nil {
			return err
		}
		_, err := t.exec(ctx, qDeleteConsoleSessions, userID)
		return err
	})
}

// DeleteExpiredSessions removes sessions past their absolute end or idle for
// idle or longer. idle <= 0 means there is no idle limit (a zero setting must
// not wipe every session).
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error) {
	idleBefore := int64(-1) // matches nothing: last_seen_at is never negative
	if idle > 0 {
		idleBefore = ms(now.Add(-idle))
	}
	n, err := s.execCount(ctx, qExpireSessions, ms(now), idleBefore)
	if err != nil {
		return n, err
	}
	// Two statements, each on its own index.
	for _, q := range []struct {
		query string
		arg   int64
	}{{qExpireConsoleByEnd, ms(now)}, {qExpireConsoleByIdleness, idleBefore}} {
		m, err := s.execCount(ctx, q.query, q.arg)
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// ListSessions reads the sessions, then which clients each logged in to;
// a session rotated between the two reads simply shows no clients.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]storage.SessionInfo, error) {
	sessions, err := collect(ctx, s, scanSession, qUserSessions, userID, ms(now))
	if err != nil || len(sessions) == 0 {
		return nil, err
	}
	type pair struct{ session, client string }
	pairs, err := collect(ctx, s, func(r scanner) (*pair, error) {
		var p pair
		return &p, mapErr(r.Scan(&p.session, &p.client))
	}, qSessionClients, userID, true)
	if err != nil {
		return nil, err
	}
	clients := map[string][]string{}
	for _, p := range pairs {
		clients[p.session] = append(clients[p.session], p.client)
	}
	out := make([]storage.SessionInfo, len(sessions))
	for i, ss := range sessions {
		out[i] = storage.SessionInfo{ID: storage.SessionID(ss.IDHash), UserID: ss.UserID, Factors: ss.Factors,
			CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt, ClientIDs: clients[ss.IDHash]}
	}
	return out, nil
}

// DeleteUserSession finds the key among the user's sessions (a user has a
// handful) and deletes that row, in one transaction.
func (s *Store) DeleteUserSession(ctx context.Context, userID, sessionID string) error {
	return s.InTx(ctx, func(tx storage.Store) error {
		t := tx.(*Store)
		keys, err := collect(ctx, t, func(r scanner) (*string, error) {
			var k string
			return &k, mapErr(r.Scan(&k))
		}, qUserSessionKeys, userID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if subtle.ConstantTimeCompare([]byte(storage.SessionID(k)), []byte(sessionID)) == 1 {
				return t.execOne(ctx, qDeleteUserSessionKey, k, userID)
			}
		}
		return storage.ErrNotFound
	})
}
