package storage

import "errors"

// Sentinel errors. Implementations wrap nothing else into them, so callers can
// use errors.Is and map them to user-facing messages without leaking SQL.
var (
	// ErrNotFound: no record matches.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict: a uniqueness rule would be broken (duplicate email, a
	// second owner, a duplicate key id).
	ErrConflict = errors.New("storage: conflict")
	// ErrAlreadyUsed: a single-use record (code, refresh token, TOTP step,
	// backup code) was already consumed, possibly by a concurrent request.
	ErrAlreadyUsed = errors.New("storage: already used")
	// ErrLocked: the account is locked for this kind of attempt.
	ErrLocked = errors.New("storage: locked")
	// ErrExpired: the record exists but its lifetime is over.
	ErrExpired = errors.New("storage: expired")
	// ErrSchemaNotCurrent: the database schema is behind or ahead of the
	// migrations this binary knows.
	ErrSchemaNotCurrent = errors.New("storage: schema not current")
	// ErrUnavailable wraps every other database or driver failure (the
	// database is down, hung past its deadline, or refused the statement):
	// the server's fault, never the client's. The wrapped text is for logs
	// only.
	ErrUnavailable = errors.New("storage: unavailable")
)
