package storage

import (
	"context"
	"time"
)

// Store is everything StepGate persists. Every method is safe for concurrent
// use, also from several processes sharing one database: single-use checks
// and counters are decided by one conditional statement in the database.
//
// Methods that address one record by its key (Get, Update, Delete, Touch,
// Retire…) return ErrNotFound when it does not exist; methods that act on a
// set (a user's sessions, a kind's bindings, expired rows) succeed on an
// empty set. Times are kept to the millisecond.
type Store interface {
	Users
	Clients
	Sessions
	ConsoleSessions
	AuthRequests
	Tokens
	SigningKeys
	Factors
	Audit
	Settings
	RateLimits

	// InTx runs fn in one transaction: fn's changes all land or none do.
	// The Store passed to fn must not be used after fn returns.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Serialize, called inside InTx, waits until no other transaction holds
	// the named lock and holds it until this transaction ends, also across
	// replicas. Transactions that decide from a set of records and act on the
	// decision ("does anything else still use OTP?") take it, so that two of
	// them cannot both decide from the state before the other's change.
	// Outside InTx it returns an error.
	Serialize(ctx context.Context, name string) error
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the connection pool.
	Close() error
}

// Users are accounts. Emails are compared lower-cased.
type Users interface {
	CreateUser(ctx context.Context, u *User) error // ErrConflict on email or second owner
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// UpdateUser reads the user and runs update on it inside one
	// transaction that holds the row until it ends, then writes the profile
	// fields (email, name, role, password hash, disabled, MFA bypass, last
	// factor, updated at) as update left them; counters are left alone. So a
	// decision update makes sees the current record, and no concurrent
	// writer's change is undone by a stale copy. An error from update is
	// returned unchanged and nothing is written. Returns the record written.
	UpdateUser(ctx context.Context, id string, update func(u *User) error) (*User, error)
	// SetPasswordHash replaces the password hash only while it is still old:
	// a login upgrading the hash of the password it just checked must not
	// undo a concurrent password change. ErrNotFound if the user is gone or
	// the hash changed meanwhile. Nothing else is written.
	SetPasswordHash(ctx context.Context, id, old, hash string, now time.Time) error
	// SetLastFactor records the factor used last, and nothing else.
	SetLastFactor(ctx context.Context, id, factor string) error

	// ReservePasswordAttempt / ReserveMFAAttempt count an attempt before
	// it is evaluated, in one conditional statement, so concurrent requests
	// (also from other replicas) can never evaluate more than the threshold:
	// the attempt that reaches the threshold sets the lock. They return
	// ErrLocked (with the lock end in the state) while the account is locked.
	// A lock that has ended starts the count again. On success the caller
	// resets the counter, which also lifts a lock set by that attempt.
	ReservePasswordAttempt(ctx context.Context, userID string, now time.Time, l Lockout) (FailureState, error)
	ReserveMFAAttempt(ctx context.Context, userID string, now time.Time, l Lockout) (FailureState, error)
	// ResetPasswordFailures / ResetMFAFailures clear the counter and lock.
	ResetPasswordFailures(ctx context.Context, userID string) error
	ResetMFAFailures(ctx context.Context, userID string) error

	// QueryUsers returns one page of the users q selects, each with what a
	// list shows of their factors. CountUsers counts every user q selects,
	// ignoring its cursor and limit. A Locked filter without Now is a
	// *FieldError.
	QueryUsers(ctx context.Context, q UserQuery) (UserPage, error)
	CountUsers(ctx context.Context, q UserQuery) (int64, error)
	// CountUserStates is the console's summary at now, in one statement.
	CountUserStates(ctx context.Context, now time.Time) (UserCounts, error)
}

// Clients are relying-party applications.
type Clients interface {
	// CreateClient stores a new client; ErrConflict on a duplicate ID, a
	// *FieldError (ErrInvalid) when c.Validate refuses it.
	CreateClient(ctx context.Context, c *Client) error
	GetClient(ctx context.Context, id string) (*Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient runs update on the current client inside one transaction
	// that holds the row, checks the result (Client.Validate) and writes
	// every field except ID and CreatedAt. An error from update or the check
	// is returned unchanged and nothing is written. Returns the record
	// written.
	UpdateClient(ctx context.Context, id string, update func(c *Client) error) (*Client, error)
	DeleteClient(ctx context.Context, id string) error

	// QueryClients returns one page of clients, in ListClients' order.
	QueryClients(ctx context.Context, q ClientQuery) (ClientPage, error)
	CountClients(ctx context.Context) (int64, error)
	// CountClientUsers says, per client ID, how many distinct users are
	// signed in to it at now: hold an access token, or a refresh token not
	// yet rotated, that is neither expired nor revoked. Tokens are the one
	// record of a sign-in that lasts as long as the sign-in does
	// (authorization requests go minutes after the login; the audit trail
	// records attempts, not who is still signed in). Clients nobody is
	// signed in to are absent.
	CountClientUsers(ctx context.Context, now time.Time) (map[string]int64, error)
}

// Sessions are SSO sessions, keyed by the hash of the cookie value.
type Sessions interface {
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string) (*Session, error)
	// RotateSession moves the session to a new ID hash and records its
	// factors in one statement; ErrNotFound if the old hash is gone (so two
	// concurrent rotations cannot both succeed).
	RotateSession(ctx context.Context, oldHash, newHash string, factors []FactorRecord, now time.Time) error
	TouchSession(ctx context.Context, idHash string, now time.Time) error
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions ends every sign-in of the user: their SSO sessions
	// and their console sessions.
	DeleteUserSessions(ctx context.Context, userID string) error
	// ListSessions returns the user's sessions whose absolute end is after
	// now, most recently seen first. An idle limit is the login's setting,
	// not the store's: a session idle past it is listed until
	// DeleteExpiredSessions removes it.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]SessionInfo, error)
	// DeleteUserSession removes one session of the user by its public ID
	// (SessionInfo.ID); ErrNotFound if the user has no session with it.
	DeleteUserSession(ctx context.Context, userID, sessionID string) error
	// DeleteExpiredSessions removes sessions, SSO and console ones, whose
	// absolute end is at or before now, or last seen idle or longer ago;
	// idle <= 0 means no idle limit.
	DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int64, error)
}

// ConsoleSessions are the console's own sign-in sessions, keyed by the hash
// of the console's cookie. They end with the user's other sessions
// (DeleteUserSessions) and expire with them (DeleteExpiredSessions).
type ConsoleSessions interface {
	CreateConsoleSession(ctx context.Context, s *ConsoleSession) error // ErrConflict on a taken hash
	GetConsoleSession(ctx context.Context, idHash string) (*ConsoleSession, error)
	// TouchConsoleSession records activity (the idle timeout restarts).
	TouchConsoleSession(ctx context.Context, idHash string, now time.Time) error
	// SetConsolePending sets (or, with "", clears) the session's pending
	// action.
	SetConsolePending(ctx context.Context, idHash, pending string) error
	// TakeConsolePending returns the pending action and clears it in one
	// statement, so it is taken once; "" when there is none.
	TakeConsolePending(ctx context.Context, idHash string) (string, error)
	DeleteConsoleSession(ctx context.Context, idHash string) error
}

// AuthRequests are authorization requests and the codes issued for them.
type AuthRequests interface {
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest records who logged in, how, and when.
	CompleteAuthRequest(ctx context.Context, id, userID, sessionHash string, authTime time.Time, amr []string, acr string) error
	// SaveAuthCode binds a code (by hash) to a completed request: once.
	// ErrNotFound if the request is unknown or not completed, ErrConflict
	// if it already has a code or the hash is taken.
	SaveAuthCode(ctx context.Context, id, codeHash string, expiresAt time.Time) error
	// GetAuthRequestByCode returns the request a code (by hash) is bound
	// to, whatever the code's state (used, expired): looking a code up
	// never consumes it. ErrNotFound for an unknown or empty hash.
	GetAuthRequestByCode(ctx context.Context, codeHash string) (*AuthRequest, error)
	// RedeemAuthCode marks the code used and returns its request. Run it
	// in the transaction that issues the code's tokens, so the code is
	// consumed only together with them. A code
	// used before yields the request and ErrAlreadyUsed (even once expired);
	// an expired code yields ErrExpired and is not marked used; an unknown
	// one ErrNotFound.
	RedeemAuthCode(ctx context.Context, codeHash string, now time.Time) (*AuthRequest, error)
	// DeleteExpiredAuthRequests removes requests whose own and whose code's
	// lifetimes are both over, so a replayed code is recognised as long as
	// it is valid. It is the only way a request is removed.
	DeleteExpiredAuthRequests(ctx context.Context, now time.Time) (int64, error)
}

// Tokens are access and refresh tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t *Token) error
	GetToken(ctx context.Context, id string) (*Token, error)
	// RevokeToken is idempotent; revocations keep the first time.
	RevokeToken(ctx context.Context, id string, now time.Time) error

	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	GetRefreshTokenByHash(ctx context.Context, tokenHash string) (*RefreshToken, error)
	// UseRefreshToken marks the token used; ErrAlreadyUsed if it already
	// was (a replay, possibly concurrent) or is revoked. Expiry is the
	// caller's check.
	UseRefreshToken(ctx context.Context, id string, now time.Time) error
	// RevokeRefreshFamily revokes every refresh token of the family and
	// every access token issued with them.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeAuthRequestTokens revokes everything issued from one code: its
	// access tokens and the refresh families it started, with their access
	// tokens. An empty ID revokes nothing.
	RevokeAuthRequestTokens(ctx context.Context, authRequestID string, now time.Time) error
	// RevokeUserClientTokens revokes a user's tokens for one client (logout).
	RevokeUserClientTokens(ctx context.Context, userID, clientID string, now time.Time) error
	// DeleteExpiredTokens removes access and refresh tokens expiring at or
	// before the given time.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
}

// SigningKeys are token-signing keys.
type SigningKeys interface {
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	ListSigningKeys(ctx context.Context) ([]SigningKey, error) // oldest first
	RetireSigningKey(ctx context.Context, id string, at time.Time) error
	DeleteSigningKey(ctx context.Context, id string) error
}

// Factors are second-factor bindings, email codes and backup codes.
type Factors interface {
	// PutPendingFactor replaces any unconfirmed binding of that kind for
	// the user with b (b.ConfirmedAt and b.LastUsedAt are ignored).
	PutPendingFactor(ctx context.Context, b *FactorBinding) error
	// GetFactor returns the user's binding of a kind: the confirmed one if
	// there is one, else the pending one. ListFactors shows both.
	GetFactor(ctx context.Context, userID, kind string) (*FactorBinding, error)
	ListFactors(ctx context.Context, userID string) ([]FactorBinding, error)
	// ConfirmFactor turns a pending binding into the user's binding,
	// replacing a confirmed one of the same kind, and records step as used.
	// ErrNotFound if id is not pending (also when a concurrent call won).
	ConfirmFactor(ctx context.Context, id string, now time.Time, step int64) error
	// UseTOTPStep accepts step only if it is later than the last accepted
	// one, in one conditional update; ErrAlreadyUsed otherwise, ErrNotFound
	// if there is no confirmed binding with that ID.
	UseTOTPStep(ctx context.Context, bindingID string, step int64) error
	// UseTOTPStepAt is UseTOTPStep that also records now as the binding's
	// LastUsedAt, in the same single statement: what a login calls.
	UseTOTPStepAt(ctx context.Context, bindingID string, step int64, now time.Time) error
	DeleteFactors(ctx context.Context, userID, kind string) error
	// DeleteAllFactorsOfKind removes every user's binding of a kind,
	// pending ones included, and returns how many were removed. Backup
	// codes are not touched.
	DeleteAllFactorsOfKind(ctx context.Context, kind string) (int64, error)
	// CountFactorsOfKind counts confirmed bindings of a kind.
	CountFactorsOfKind(ctx context.Context, kind string) (int64, error)

	CreateEmailCode(ctx context.Context, c *EmailCode) error
	// LatestEmailCode is the newest code for the user, purpose and binding.
	LatestEmailCode(ctx context.Context, userID, purpose, boundTo string) (*EmailCode, error)
	// UseEmailCode marks the code used; ErrAlreadyUsed if it was. Expiry
	// is the caller's check.
	UseEmailCode(ctx context.Context, id string, now time.Time) error

	// ReplaceBackupCodes deletes the user's codes and stores these hashes,
	// in one transaction; a repeated hash is ErrConflict and changes nothing.
	ReplaceBackupCodes(ctx context.Context, userID string, hashes []string, now time.Time) error
	// PutShownBackupCodes keeps new codes (sealed) for their login until
	// the user confirms saving them, replacing any kept for that login;
	// they go when DeleteShownBackupCodes is called or their authorization
	// request is removed. GetShownBackupCodes / DeleteShownBackupCodes
	// return ErrNotFound when none are kept for the login.
	PutShownBackupCodes(ctx context.Context, c *ShownBackupCodes) error
	GetShownBackupCodes(ctx context.Context, authRequestID string) (*ShownBackupCodes, error)
	DeleteShownBackupCodes(ctx context.Context, authRequestID string) error
	// UseBackupCode consumes the unused code with that hash; ErrNotFound
	// if there is none (wrong or already used).
	UseBackupCode(ctx context.Context, userID, codeHash string, now time.Time) error
	CountUnusedBackupCodes(ctx context.Context, userID string) (int, error)
	DeleteBackupCodes(ctx context.Context, userID string) error
	// DeleteAllBackupCodes removes every user's backup codes in one
	// statement (with the last authenticator bindings, when OTP goes) and
	// returns how many were removed.
	DeleteAllBackupCodes(ctx context.Context) (int64, error)
}

// Audit is the append-only audit trail.
type Audit interface {
	AppendAudit(ctx context.Context, e *AuditEvent) error               // sets e.ID
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) // newest first
	// QueryAudit returns one page of the events q selects, newest first.
	QueryAudit(ctx context.Context, q AuditQuery) (AuditPage, error)
	// EachAudit calls fn with every event q selects, newest first, from
	// q's cursor on and at most q.Limit of them (0: all). It reads in
	// batches and calls fn with no statement open, so an export holds
	// neither all rows in memory nor a connection while fn writes to a
	// slow reader; events appended meanwhile are not visited. An error
	// from fn stops the walk and is returned unchanged.
	EachAudit(ctx context.Context, q AuditQuery, fn func(e *AuditEvent) error) error
}

// RateLimits are fixed-window counters shared by every replica.
type RateLimits interface {
	// HitRateLimit counts one event for key in the window that started at
	// most window ago (starting a new window otherwise) and returns the
	// count including this event, in one statement.
	HitRateLimit(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// DeleteRateLimitsBefore removes counters whose window started before
	// the given time; a hit on such a key would start a new window anyway
	// when before is at least the longest window ago.
	DeleteRateLimitsBefore(ctx context.Context, before time.Time) (int64, error)
}

// Settings are small named JSON documents (workspace policy and the like).
type Settings interface {
	GetSetting(ctx context.Context, key string) ([]byte, error) // ErrNotFound if unset
	PutSetting(ctx context.Context, key string, value []byte, now time.Time) error
}
