package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// What a user list shows besides the row: a confirmed TOTP binding, and the
// unused backup codes (both looked up by the user's indexed ID).
const (
	userTOTPBound = `EXISTS (SELECT 1 FROM factor_bindings b WHERE b.user_id = users.id AND b.kind = '` +
		storage.FactorTOTP + `' AND b.confirmed_at <> 0)`
	userCodesLeft = `(SELECT COUNT(*) FROM backup_codes c WHERE c.user_id = users.id AND c.used_at = 0)`

	qUserSummaries = `SELECT ` + userColumns + `, ` + userTOTPBound + `, ` + userCodesLeft + ` FROM users`
	qCountUsers    = `SELECT COUNT(*) FROM users`
	// The summary in one pass over users. SUM of no rows is NULL.
	qCountUserStates = `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN ` + userTOTPBound + ` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN password_locked_until > ? OR mfa_locked_until > ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN mfa_bypass = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN disabled = ? THEN 1 ELSE 0 END), 0)
		FROM users`
)

const userCursor = "users"

// userFilter turns q's filters (not its cursor) into conditions.
func (s *Store) userFilter(q storage.UserQuery) (*where, error) {
	w := &where{}
	if term := strings.ToLower(strings.TrimSpace(q.Search)); term != "" {
		p := containsPattern(term)
		w.add(`(`+s.fold("email")+` LIKE ? ESCAPE '\' OR `+s.fold("name")+` LIKE ? ESCAPE '\')`, p, p)
	}
	if q.TOTPBound != nil {
		if *q.TOTPBound {
			w.add(userTOTPBound)
		} else {
			w.add("NOT " + userTOTPBound)
		}
	}
	if q.Locked != nil {
		if q.Now.IsZero() {
			return nil, &storage.FieldError{Field: "now", Reason: "is needed to tell who is locked"}
		}
		now := ms(q.Now)
		if *q.Locked {
			w.add("(password_locked_until > ? OR mfa_locked_until > ?)", now, now)
		} else {
			w.add("password_locked_until <= ? AND mfa_locked_until <= ?", now, now)
		}
	}
	if q.Bypass != nil {
		w.add("mfa_bypass = ?", *q.Bypass)
	}
	if q.Disabled != nil {
		w.add("disabled = ?", *q.Disabled)
	}
	if q.Role != "" {
		w.add("role = ?", string(q.Role))
	}
	return w, nil
}

func scanUserSummary(row scanner) (*storage.UserSummary, error) {
	var u storage.UserSummary
	var role string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.Disabled, &u.MFABypass, &u.LastFactor,
		&u.PasswordFailures, (*msTime)(&u.PasswordLockedUntil), &u.MFAFailures, (*msTime)(&u.MFALockedUntil),
		(*msTime)(&u.CreatedAt), (*msTime)(&u.UpdatedAt), &u.TOTPBound, &u.BackupCodesLeft)
	if err != nil {
		return nil, mapErr(err)
	}
	u.Role = storage.Role(role)
	return &u, nil
}

// QueryUsers pages by email: the rows after the cursor's email, one more
// than the limit to learn whether another page follows.
func (s *Store) QueryUsers(ctx context.Context, q storage.UserQuery) (storage.UserPage, error) {
	w, err := s.userFilter(q)
	if err != nil {
		return storage.UserPage{}, err
	}
	key, ok, err := decodeCursor(userCursor, q.Cursor, 1)
	if err != nil {
		return storage.UserPage{}, err
	}
	if ok {
		w.add(s.bytewise("email")+" > ?", key[0])
	}
	limit := storage.PageLimit(q.Limit)
	users, err := collect(ctx, s, scanUserSummary, qUserSummaries+w.sql()+" ORDER BY "+s.bytewise("email")+" LIMIT ?",
		append(w.args, limit+1)...)
	if err != nil {
		return storage.UserPage{}, err
	}
	page := storage.UserPage{Users: users}
	if len(users) > limit {
		page.Users = users[:limit]
		page.NextCursor = encodeCursor(userCursor, users[limit-1].Email)
	}
	return page, nil
}

func (s *Store) CountUsers(ctx context.Context, q storage.UserQuery) (int64, error) {
	w, err := s.userFilter(q)
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.queryRow(ctx, qCountUsers+w.sql(), w.args...).Scan(&n)
	return n, mapErr(err)
}

func (s *Store) CountUserStates(ctx context.Context, now time.Time) (storage.UserCounts, error) {
	var c storage.UserCounts
	err := s.queryRow(ctx, qCountUserStates, ms(now), ms(now), true, true).
		Scan(&c.Total, &c.TOTPBound, &c.Locked, &c.Bypass, &c.Disabled)
	return c, mapErr(err)
}
