package admin

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// User is an account as every door shows it; never its password hash.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	MFABypass bool      `json:"mfa_bypass"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func userView(u *storage.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled,
		MFABypass: u.MFABypass, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// LockState says whether the user is locked out at the time asked, and
// until when each counter's lock holds (nil: that one is not locked).
type LockState struct {
	Locked              bool       `json:"locked"`
	PasswordLockedUntil *time.Time `json:"password_locked_until,omitempty"`
	MFALockedUntil      *time.Time `json:"mfa_locked_until,omitempty"`
}

// lockStateAt reads u's locks as the login does: a lock holds while its end
// is after now.
func lockStateAt(u *storage.User, now time.Time) LockState {
	var l LockState
	if u.PasswordLockedUntil.After(now) {
		t := u.PasswordLockedUntil
		l.PasswordLockedUntil = &t
	}
	if u.MFALockedUntil.After(now) {
		t := u.MFALockedUntil
		l.MFALockedUntil = &t
	}
	l.Locked = l.PasswordLockedUntil != nil || l.MFALockedUntil != nil
	return l
}

// UserRef names the user an operation is about: their ID, or their email
// (anything with an "@").
type UserRef struct {
	User string `json:"user"`
}

// maxEmail bounds an email address (RFC 5321's path limit is lower; this is
// the common column bound) and a search term.
const maxEmail = 320

// checkUserRef validates a reference before any transaction starts.
func checkUserRef(f *fields, ref string) {
	switch ref = strings.TrimSpace(ref); {
	case ref == "":
		f.add("user", "is required: a user ID or email")
	case len(ref) > maxEmail:
		f.add("user", fmt.Sprintf("is longer than %d characters", maxEmail))
	}
}

// resolveUser finds the user a reference names, in st (the operation's
// transaction, so what is decided is what is current).
func resolveUser(ctx context.Context, st storage.Store, ref string) (*storage.User, error) {
	ref = strings.TrimSpace(ref)
	var u *storage.User
	var err error
	if strings.Contains(ref, "@") {
		u, err = st.GetUserByEmail(ctx, ref)
	} else {
		u, err = st.GetUser(ctx, ref)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &NotFoundError{What: "user", Ref: ref}
	}
	return u, err
}

// checkEmail validates an email address a person typed and returns it as
// stored: trimmed and lower-cased.
func checkEmail(f *fields, field, email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(email, "@")
	switch {
	case email == "":
		f.add(field, "is required")
	case len(email) > maxEmail:
		f.add(field, fmt.Sprintf("is longer than %d characters", maxEmail))
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !utf8.ValidString(email) ||
		strings.ContainsFunc(email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		f.add(field, "must be an email address such as ada@example.com")
	}
	return email
}

const maxUserName = 200

func checkUserName(f *fields, name string) string {
	name = strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		f.add("name", "must be text without control characters")
	case utf8.RuneCountInString(name) > maxUserName:
		f.add("name", fmt.Sprintf("is longer than %d characters", maxUserName))
	}
	return name
}

func checkRole(f *fields, role string) storage.Role {
	r := storage.Role(strings.ToLower(strings.TrimSpace(role)))
	if !r.Valid() {
		f.add("role", "must be owner, admin or member")
	}
	return r
}

// Password bounds, as the CLI has always read them: long enough to resist
// guessing, short enough that hashing one is not a denial of service.
const (
	minPassword = 8    // characters
	maxPassword = 1024 // bytes
)

func checkPassword(f *fields, pw string) {
	switch {
	case utf8.RuneCountInString(pw) < minPassword:
		f.add("password", fmt.Sprintf("must have at least %d characters", minPassword))
	case len(pw) > maxPassword:
		f.add("password", fmt.Sprintf("must have at most %d bytes", maxPassword))
	}
}

// hashPassword runs the (slow) hash before any transaction starts, so no
// lock is held while it runs.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	if s.Hasher == nil {
		return "", errors.New("admin: the service has no password hasher")
	}
	return s.Hasher.Hash(ctx, pw)
}

// newUserID is a random 128-bit hex ID from the service's randomness, in
// the form op.NewID gives (safe in URLs and on a command line).
func (s *Service) newUserID() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(s.rand(), b); err != nil {
		return "", fmt.Errorf("admin: reading randomness: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ownerLock serializes every transaction that decides from who the owner is
// (creating an owner, handing ownership over): the database allows one
// owner, and this makes the second of two racing changes see the first.
const ownerLock = "users.owner"

// currentOwner is the owner, or nil while there is none.
func currentOwner(ctx context.Context, tx storage.Store) (*storage.User, error) {
	page, err := tx.QueryUsers(ctx, storage.UserQuery{Role: storage.RoleOwner, Limit: 1})
	if err != nil || len(page.Users) == 0 {
		return nil, err
	}
	return &page.Users[0].User, nil
}

// CreateUserInput is a new account. The password is hashed and never
// stored, logged or audited in clear.
type CreateUserInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"` // owner, admin or member; empty is member
	Password string `json:"password"`
}

// CreateUser adds an account. A taken email, or a second owner, is a
// *ConflictError.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in CreateUserInput) (*User, error) {
	var f fields
	email := checkEmail(&f, "email", in.Email)
	name := checkUserName(&f, in.Name)
	role := storage.RoleMember
	if strings.TrimSpace(in.Role) != "" {
		role = checkRole(&f, in.Role)
	}
	checkPassword(&f, in.Password)
	if err := f.err(); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	id, err := s.newUserID()
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &storage.User{ID: id, Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.tx(ctx, func(tx storage.Store) error {
		if role == storage.RoleOwner {
			if err := tx.Serialize(ctx, ownerLock); err != nil {
				return err
			}
			owner, err := currentOwner(ctx, tx)
			if err != nil {
				return err
			}
			if owner != nil {
				return &ConflictError{Reason: fmt.Sprintf("%s is the owner and there can be only one; "+
					"create the user as admin, then make them owner", owner.Email)}
			}
		}
		if _, err := tx.GetUserByEmail(ctx, email); err == nil {
			return &ConflictError{Reason: "a user with that email already exists"}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := tx.CreateUser(ctx, u); errors.Is(err, storage.ErrConflict) {
			return &ConflictError{Reason: "a user with that email, or an owner, already exists"}
		} else if err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventUserCreated, UserID: u.ID, Identifier: u.Email,
			Detail: "role=" + string(role)})
	})
	if err != nil {
		return nil, err
	}
	v := userView(u)
	return &v, nil
}

// ListUsersInput selects users; zero fields match everyone, a nil flag
// does not filter. Locked is judged at the service's now.
type ListUsersInput struct {
	Search    string `json:"search,omitempty"` // part of the email or name, any case
	TOTPBound *bool  `json:"totp_bound,omitempty"`
	Locked    *bool  `json:"locked,omitempty"`
	Bypass    *bool  `json:"mfa_bypass,omitempty"`
	Disabled  *bool  `json:"disabled,omitempty"`
	Role      string `json:"role,omitempty"`
	Cursor    string `json:"cursor,omitempty"` // the NextCursor of the previous page
	Limit     int    `json:"limit,omitempty"`  // 0: storage.DefaultPageSize; at most storage.MaxPageSize
}

// UserListItem is one row of a user list.
type UserListItem struct {
	User
	LockState
	TOTPBound       bool `json:"totp_bound"`
	BackupCodesLeft int  `json:"backup_codes_left"`
}

// UserList is one page of users, ordered by email, and how many match in
// all.
type UserList struct {
	Users      []UserListItem `json:"users"`
	Total      int64          `json:"total"`
	NextCursor string         `json:"next_cursor,omitempty"` // empty on the last page
}

// pageLimitField validates a page size.
func pageLimitField(f *fields, limit int) {
	if limit < 0 || limit > storage.MaxPageSize {
		f.add("limit", fmt.Sprintf("must be between 1 and %d (0 for %d)", storage.MaxPageSize, storage.DefaultPageSize))
	}
}

// ListUsers returns one page of the users the input selects.
func (s *Service) ListUsers(ctx context.Context, in ListUsersInput) (*UserList, error) {
	var f fields
	q := storage.UserQuery{Search: strings.TrimSpace(in.Search), TOTPBound: in.TOTPBound, Locked: in.Locked,
		Bypass: in.Bypass, Disabled: in.Disabled, Cursor: strings.TrimSpace(in.Cursor), Limit: in.Limit}
	if len(q.Search) > maxEmail {
		f.add("search", fmt.Sprintf("is longer than %d characters", maxEmail))
	}
	if strings.TrimSpace(in.Role) != "" {
		q.Role = checkRole(&f, in.Role)
	}
	pageLimitField(&f, in.Limit)
	if err := f.err(); err != nil {
		return nil, err
	}
	now := s.now()
	q.Now = now
	page, err := s.Store.QueryUsers(ctx, q)
	if err != nil {
		return nil, asFieldErrors(err)
	}
	total, err := s.Store.CountUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &UserList{Users: make([]UserListItem, len(page.Users)), Total: total, NextCursor: page.NextCursor}
	for i := range page.Users {
		u := &page.Users[i]
		out.Users[i] = UserListItem{User: userView(&u.User), LockState: lockStateAt(&u.User, now),
			TOTPBound: u.TOTPBound, BackupCodesLeft: u.BackupCodesLeft}
	}
	return out, nil
}

// UserFactor is one of a user's second-factor bindings.
type UserFactor struct {
	Kind      string    `json:"kind"`    // storage.FactorTOTP
	Pending   bool      `json:"pending"` // set up, not yet confirmed with a code
	CreatedAt time.Time `json:"created_at"`
	// BoundAt is when it was confirmed; nil while pending.
	BoundAt *time.Time `json:"bound_at,omitempty"`
	// LastUsedAt is when a login last had a code accepted by it; nil if
	// not since it was bound.
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// UserSession is one of a user's SSO sessions. ID is public (see
// storage.SessionID): EndSessions takes it.
type UserSession struct {
	ID         string                 `json:"id"`
	CreatedAt  time.Time              `json:"created_at"`
	LastSeenAt time.Time              `json:"last_seen_at"`
	ExpiresAt  time.Time              `json:"expires_at"`
	Factors    []storage.FactorRecord `json:"factors"`
	ClientIDs  []string               `json:"client_ids"` // as far as known; see storage.SessionInfo
}

// UserDetail is everything an administrator sees about one user.
type UserDetail struct {
	User
	LockState
	PasswordFailures int           `json:"password_failures"`
	MFAFailures      int           `json:"mfa_failures"`
	Factors          []UserFactor  `json:"factors"`
	BackupCodesLeft  int           `json:"backup_codes_left"`
	Sessions         []UserSession `json:"sessions"` // live ones, most recently seen first
}

// ShowUser returns one user with their factors, lock state and sessions.
// It only reads, so it takes no transaction: each part is current when read.
func (s *Service) ShowUser(ctx context.Context, in UserRef) (*UserDetail, error) {
	if err := userRefError(in.User); err != nil {
		return nil, err
	}
	u, err := resolveUser(ctx, s.Store, in.User)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &UserDetail{User: userView(u), LockState: lockStateAt(u, now), PasswordFailures: u.PasswordFailures,
		MFAFailures: u.MFAFailures, Factors: []UserFactor{}, Sessions: []UserSession{}}
	bindings, err := s.Store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, b := range bindings {
		uf := UserFactor{Kind: b.Kind, Pending: b.ConfirmedAt.IsZero(), CreatedAt: b.CreatedAt}
		if !uf.Pending {
			t := b.ConfirmedAt
			uf.BoundAt = &t
		}
		if !b.LastUsedAt.IsZero() {
			t := b.LastUsedAt
			uf.LastUsedAt = &t
		}
		d.Factors = append(d.Factors, uf)
	}
	if d.BackupCodesLeft, err = s.Store.CountUnusedBackupCodes(ctx, u.ID); err != nil {
		return nil, err
	}
	sessions, err := s.Store.ListSessions(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	for _, ss := range sessions {
		us := UserSession{ID: ss.ID, CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt, ExpiresAt: ss.ExpiresAt,
			Factors: ss.Factors, ClientIDs: ss.ClientIDs}
		if us.Factors == nil {
			us.Factors = []storage.FactorRecord{}
		}
		if us.ClientIDs == nil {
			us.ClientIDs = []string{}
		}
		d.Sessions = append(d.Sessions, us)
	}
	return d, nil
}
