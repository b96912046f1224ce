package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Page sizes of every paginated query. A Limit of 0 or less is
// DefaultPageSize; one above MaxPageSize is MaxPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageLimit is the number of rows a query with limit returns at most.
func PageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// A cursor is opaque: the NextCursor of one page, handed back unchanged (with
// the same filters) to get the next. A cursor the store did not make is a
// *FieldError on "cursor". The empty cursor is the first page; an empty
// NextCursor means there is no next page.

// UserQuery selects users for a list. Zero fields match everything; a nil
// flag does not filter. Users come ordered by email, which is unique, so
// paging never shows a user twice or skips one that did not change meanwhile.
type UserQuery struct {
	// Search matches a substring of the email or the name, ignoring case
	// as Go's strings.ToLower does (on PostgreSQL: LOWER by the database's
	// LC_CTYPE, which folds the same for a UTF-8 one; a "C" one folds only
	// ASCII letters).
	Search string
	// TOTPBound: the user has (true) or has not (false) a confirmed TOTP
	// binding; a pending one does not count.
	TOTPBound *bool
	// Locked: the password or the second-factor counter is (true) or
	// neither is (false) locked at Now. Now is required with Locked.
	Locked   *bool
	Now      time.Time
	Bypass   *bool
	Disabled *bool
	Role     Role // "" any role

	Cursor string
	Limit  int // see PageLimit
}

// UserSummary is a user as a list shows it.
type UserSummary struct {
	User
	TOTPBound       bool // a confirmed TOTP binding
	BackupCodesLeft int  // unused backup codes
}

// UserPage is one page of a user query.
type UserPage struct {
	Users      []UserSummary
	NextCursor string
}

// UserCounts are the console's user summary at a time: every user, and how
// many have a confirmed TOTP binding, are locked (password or second
// factor), have the MFA bypass, are disabled.
type UserCounts struct {
	Total, TOTPBound, Locked, Bypass, Disabled int64
}

// ClientQuery pages through clients in the order they were created (ties by
// ID), as ListClients lists them.
type ClientQuery struct {
	Cursor string
	Limit  int // see PageLimit
}

// ClientPage is one page of clients.
type ClientPage struct {
	Clients    []Client
	NextCursor string
}

// SessionInfo is an SSO session as an administrator sees it. It carries a
// public ID, never the session's key (the hash of the cookie).
type SessionInfo struct {
	ID         string // SessionID of the key; stable until the session rotates
	UserID     string
	Factors    []FactorRecord
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// ClientIDs are the clients the session completed a login for since it
	// last rotated, as far as their authorization requests are still kept
	// (they go when their code's lifetime ends): "if known", not a history.
	ClientIDs []string
}

// SessionID is the public ID of the session whose key is idHash: a hash of
// the hash, so showing it, writing it to the audit trail or putting it in
// a URL reveals nothing that could find or forge the cookie. Every store
// derives it the same way. A session gets a new ID whenever it rotates (a
// completed authentication step).
func SessionID(idHash string) string {
	sum := sha256.Sum256([]byte("stepgate.session.id\x00" + idHash))
	return hex.EncodeToString(sum[:16])
}

// AuditQuery selects audit events, newest (highest ID) first. Zero fields
// match everything.
type AuditQuery struct {
	UserID   string
	ClientID string
	Types    []string  // any of these event codes
	Result   string    // ResultSuccess or ResultFailure
	Since    time.Time // at or after
	Until    time.Time // before
	IP       string    // exactly, as stored (canonical form)
	Country  string    // exactly, as stored (ISO 3166-1 alpha-2, upper case)

	Cursor string
	// Limit bounds a page (see PageLimit). EachAudit takes it as the
	// number of events to visit at most, 0 meaning all of them.
	Limit int
}

// AuditPage is one page of an audit query.
type AuditPage struct {
	Events     []AuditEvent
	NextCursor string
}
