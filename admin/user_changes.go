package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// UserChange is what an operation on a user did. An operation that finds
// the user already as asked changes nothing and writes no audit row.
type UserChange struct {
	User          User `json:"user"`
	Changed       bool `json:"changed"`
	SessionsEnded int  `json:"sessions_ended"` // live SSO sessions ended with the change
}

// errUserUnchanged, returned by an edit, leaves the record unwritten.
var errUserUnchanged = errors.New("admin: user unchanged")

// editUser lets edit change the user's record as it is now, locked until
// the transaction ends (storage.Users.UpdateUser), so edit decides from
// current state. edit returns errUserUnchanged when there is nothing to do;
// then nothing is written and changed is false. before is the record edit
// saw, after the one written (or before, unchanged).
func (s *Service) editUser(ctx context.Context, tx storage.Store, id string,
	edit func(u *storage.User) error) (before, after *storage.User, changed bool, err error) {
	var seen storage.User
	after, err = tx.UpdateUser(ctx, id, func(u *storage.User) error {
		seen = *u
		if err := edit(u); err != nil {
			return err
		}
		u.UpdatedAt = s.now()
		return nil
	})
	switch {
	case errors.Is(err, errUserUnchanged):
		return &seen, &seen, false, nil
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil, false, &NotFoundError{What: "user", Ref: id}
	case err != nil:
		return nil, nil, false, asFieldErrors(err)
	}
	return &seen, after, true, nil
}

// endUserSessions ends every session of the user and says how many were
// live.
func (s *Service) endUserSessions(ctx context.Context, tx storage.Store, userID string) (int, error) {
	live, err := tx.ListSessions(ctx, userID, s.now())
	if err != nil {
		return 0, err
	}
	return len(live), tx.DeleteUserSessions(ctx, userID)
}

func sessionsDetail(n int) string { return fmt.Sprintf("%d session(s) ended", n) }

// userRefError is the field error of a reference that cannot name a user,
// or nil.
func userRefError(ref string) error {
	var f fields
	checkUserRef(&f, ref)
	return f.err()
}

// onUser runs fn in one transaction on the user ref names, resolved inside
// it, so that fn decides from the user as they are now.
func (s *Service) onUser(ctx context.Context, ref string, fn func(tx storage.Store, u *storage.User) error) error {
	return s.tx(ctx, func(tx storage.Store) error {
		u, err := resolveUser(ctx, tx, ref)
		if err != nil {
			return err
		}
		return fn(tx, u)
	})
}

// changeUser is the shape most user operations share: in one transaction,
// resolve the reference, let edit change the locked record, and when it did,
// end the sessions if endSessions says so and write one audit row of typ.
func (s *Service) changeUser(ctx context.Context, actor Actor, ref, typ string, edit func(u *storage.User) error,
	endSessions func(before, after *storage.User) bool, detail func(before, after *storage.User) string) (*UserChange, error) {
	if err := userRefError(ref); err != nil {
		return nil, err
	}
	var out UserChange
	err := s.onUser(ctx, ref, func(tx storage.Store, u *storage.User) error {
		before, after, changed, err := s.editUser(ctx, tx, u.ID, edit)
		if err != nil {
			return err
		}
		out = UserChange{User: userView(after), Changed: changed}
		if !changed {
			return nil
		}
		var parts []string
		if detail != nil {
			parts = append(parts, detail(before, after))
		}
		if endSessions != nil && endSessions(before, after) {
			if out.SessionsEnded, err = s.endUserSessions(ctx, tx, u.ID); err != nil {
				return err
			}
			parts = append(parts, sessionsDetail(out.SessionsEnded))
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: typ, UserID: after.ID, Identifier: after.Email,
			Detail: strings.Join(parts, "; ")})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func endSessionsAlways(_, _ *storage.User) bool { return true }

// DisableUser stops the user from signing in and ends their sessions. The
// owner cannot be disabled (hand ownership over first, see SetRole): the
// workspace would be left without anyone who may change everything.
func (s *Service) DisableUser(ctx context.Context, actor Actor, in UserRef) (*UserChange, error) {
	return s.changeUser(ctx, actor, in.User, mfa.EventUserDisabled, func(u *storage.User) error {
		switch {
		case u.Role == storage.RoleOwner:
			return &ConflictError{Reason: u.Email + " is the owner, who cannot be disabled; make another user owner first"}
		case u.Disabled:
			return errUserUnchanged
		}
		u.Disabled = true
		return nil
	}, endSessionsAlways, nil)
}

// EnableUser lets a disabled user sign in again.
func (s *Service) EnableUser(ctx context.Context, actor Actor, in UserRef) (*UserChange, error) {
	return s.changeUser(ctx, actor, in.User, mfa.EventUserEnabled, func(u *storage.User) error {
		if !u.Disabled {
			return errUserUnchanged
		}
		u.Disabled = false
		return nil
	}, nil, nil)
}

// SetPasswordInput is a new password for a user, hashed and never stored,
// logged or audited in clear.
type SetPasswordInput struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// SetPassword replaces the user's password and ends their sessions, so the
// next sign-in needs the new one. Failure counters are left: Unlock is its
// own decision.
func (s *Service) SetPassword(ctx context.Context, actor Actor, in SetPasswordInput) (*UserChange, error) {
	var f fields
	checkUserRef(&f, in.User)
	checkPassword(&f, in.Password)
	if err := f.err(); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, actor, in.User, mfa.EventUserPasswordSet, func(u *storage.User) error {
		u.PasswordHash = hash
		return nil
	}, endSessionsAlways, nil)
}

// SetRoleInput is a user's new role.
type SetRoleInput struct {
	User string `json:"user"`
	Role string `json:"role"` // owner, admin or member
}

// SetRole changes a user's role. There is exactly one owner once there is
// one, so ownership is handed over, never removed: making a user owner
// makes the current owner an admin in the same transaction (and ends the
// former owner's sessions, opened while exempt from the workspace's MFA
// policy, as turning a bypass off does); taking the role from the owner any
// other way is a *ConflictError. A disabled user cannot become owner.
func (s *Service) SetRole(ctx context.Context, actor Actor, in SetRoleInput) (*UserChange, error) {
	var f fields
	checkUserRef(&f, in.User)
	role := checkRole(&f, in.Role)
	if err := f.err(); err != nil {
		return nil, err
	}
	var out UserChange
	err := s.tx(ctx, func(tx storage.Store) error {
		// Who the owner is is a decision over the users table, not one row.
		if err := tx.Serialize(ctx, ownerLock); err != nil {
			return err
		}
		u, err := resolveUser(ctx, tx, in.User)
		if err != nil {
			return err
		}
		var former *storage.User
		if role == storage.RoleOwner && u.Role != storage.RoleOwner {
			if former, err = currentOwner(ctx, tx); err != nil {
				return err
			}
			if former != nil {
				// Demote first: the database allows one owner at a time.
				_, former, _, err = s.editUser(ctx, tx, former.ID, func(o *storage.User) error {
					o.Role = storage.RoleAdmin
					return nil
				})
				if err != nil {
					return err
				}
			}
		}
		before, after, changed, err := s.editUser(ctx, tx, u.ID, func(cur *storage.User) error {
			switch {
			case cur.Role == role:
				return errUserUnchanged
			case cur.Role == storage.RoleOwner:
				return &ConflictError{Reason: cur.Email + " is the owner; to hand ownership over, make another user owner"}
			case role == storage.RoleOwner && cur.Disabled:
				return &ConflictError{Reason: cur.Email + " is disabled and cannot become the owner; enable them first"}
			}
			cur.Role = role
			return nil
		})
		if err != nil {
			return err
		}
		out = UserChange{User: userView(after), Changed: changed}
		if !changed {
			return nil
		}
		detail := fmt.Sprintf("role=%s (was %s)", after.Role, before.Role)
		if former != nil {
			if out.SessionsEnded, err = s.endUserSessions(ctx, tx, former.ID); err != nil {
				return err
			}
			detail += fmt.Sprintf("; former owner %s (%s) is now admin, %s", former.Email, former.ID,
				sessionsDetail(out.SessionsEnded))
			// The former owner's own trail shows their demotion too.
			if err := s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventUserRoleSet, UserID: former.ID,
				Identifier: former.Email, Detail: fmt.Sprintf("role=%s (was %s): ownership handed to %s (%s); %s",
					former.Role, storage.RoleOwner, after.Email, after.ID, sessionsDetail(out.SessionsEnded))}); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventUserRoleSet, UserID: after.ID,
			Identifier: after.Email, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetBypassInput turns a user's MFA bypass on or off; Bypass is required.
type SetBypassInput struct {
	User   string `json:"user"`
	Bypass *bool  `json:"mfa_bypass"`
}

// SetBypass sets whether policy ever asks the user for a second factor.
// Turning it off ends the user's sessions: those opened while it was on
// skipped a factor the policy now asks for.
func (s *Service) SetBypass(ctx context.Context, actor Actor, in SetBypassInput) (*UserChange, error) {
	if in.Bypass == nil {
		var f fields
		checkUserRef(&f, in.User)
		f.add("mfa_bypass", "is required: on (true) or off (false)")
		return nil, f.err()
	}
	on := *in.Bypass
	return s.changeUser(ctx, actor, in.User, mfa.EventBypassChanged, func(u *storage.User) error {
		if u.MFABypass == on {
			return errUserUnchanged
		}
		u.MFABypass = on
		return nil
	}, func(before, after *storage.User) bool { return before.MFABypass && !after.MFABypass },
		func(_, after *storage.User) string { return "bypass=" + bypassWord(after.MFABypass) })
}

func bypassWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// Unlock ends the user's password and second-factor locks early and clears
// both failure counters.
func (s *Service) Unlock(ctx context.Context, actor Actor, in UserRef) (*UserChange, error) {
	if err := userRefError(in.User); err != nil {
		return nil, err
	}
	var out UserChange
	err := s.onUser(ctx, in.User, func(tx storage.Store, u *storage.User) error {
		out.User = userView(u)
		if u.PasswordFailures == 0 && u.MFAFailures == 0 && u.PasswordLockedUntil.IsZero() && u.MFALockedUntil.IsZero() {
			return nil
		}
		out.Changed = true
		if err := tx.ResetPasswordFailures(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.ResetMFAFailures(ctx, u.ID); err != nil {
			return err
		}
		l := lockStateAt(u, s.now())
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventAccountUnlocked, UserID: u.ID,
			Identifier: u.Email, Detail: fmt.Sprintf("password failures %d, second-factor failures %d, locked %v",
				u.PasswordFailures, u.MFAFailures, l.Locked)})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// OTPReset is what resetting a user's authenticator removed.
type OTPReset struct {
	UserChange
	BindingRemoved     bool `json:"binding_removed"`      // a TOTP binding, confirmed or pending
	BackupCodesRemoved int  `json:"backup_codes_removed"` // unused ones; used ones go too
}

// ResetOTP removes the user's TOTP binding (confirmed and pending) and all
// their backup codes at once, so a lost or compromised authenticator and
// the codes that stood in for it stop working together; the next login
// binds anew where policy asks for OTP. It ends every session of the user,
// not only those that used OTP: a reset answers "someone else may have
// the authenticator", and a session opened with the password alone was
// opened by whoever has the password, which the reset does not vouch for.
func (s *Service) ResetOTP(ctx context.Context, actor Actor, in UserRef) (*OTPReset, error) {
	if err := userRefError(in.User); err != nil {
		return nil, err
	}
	var out OTPReset
	err := s.onUser(ctx, in.User, func(tx storage.Store, u *storage.User) error {
		out.User = userView(u)
		bindings, err := tx.ListFactors(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, b := range bindings {
			out.BindingRemoved = out.BindingRemoved || b.Kind == storage.FactorTOTP
		}
		if out.BackupCodesRemoved, err = tx.CountUnusedBackupCodes(ctx, u.ID); err != nil {
			return err
		}
		if !out.BindingRemoved && out.BackupCodesRemoved == 0 {
			return nil
		}
		out.Changed = true
		if err := tx.DeleteFactors(ctx, u.ID, storage.FactorTOTP); err != nil {
			return err
		}
		if err := tx.DeleteBackupCodes(ctx, u.ID); err != nil {
			return err
		}
		if out.SessionsEnded, err = s.endUserSessions(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventUserOTPReset, UserID: u.ID,
			Identifier: u.Email, Detail: fmt.Sprintf("binding removed %v; %d backup code(s) removed; %s",
				out.BindingRemoved, out.BackupCodesRemoved, sessionsDetail(out.SessionsEnded))})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// BackupCodes are a user's new backup codes, shown this once: only their
// hashes are kept.
type BackupCodes struct {
	User  User     `json:"user"`
	Codes []string `json:"backup_codes"`
}

// RegenerateBackupCodes replaces the user's backup codes with a new set;
// the old ones stop working in the same transaction.
func (s *Service) RegenerateBackupCodes(ctx context.Context, actor Actor, in UserRef) (*BackupCodes, error) {
	if err := userRefError(in.User); err != nil {
		return nil, err
	}
	if len(s.CodeKey) == 0 {
		return nil, errors.New("admin: the service has no code key")
	}
	codes, err := mfa.NewBackupCodes(s.rand(), mfa.BackupCodeCount)
	if err != nil {
		return nil, err
	}
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i], _ = mfa.HashBackupCode(s.CodeKey, c)
	}
	var out BackupCodes
	err = s.onUser(ctx, in.User, func(tx storage.Store, u *storage.User) error {
		out = BackupCodes{User: userView(u), Codes: codes}
		if err := tx.ReplaceBackupCodes(ctx, u.ID, hashes, s.now()); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventBackupCodesRegenerated, UserID: u.ID,
			Identifier: u.Email, Detail: fmt.Sprintf("%d codes", len(codes))})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EndSessionsInput names the user and, optionally, one of their sessions
// (UserSession.ID); without one, every session of the user ends.
type EndSessionsInput struct {
	User      string `json:"user"`
	SessionID string `json:"session_id,omitempty"`
}

// EndSessions signs the user out: of one session, or of all. Tokens already
// issued to applications stay valid until they expire.
func (s *Service) EndSessions(ctx context.Context, actor Actor, in EndSessionsInput) (*UserChange, error) {
	var f fields
	checkUserRef(&f, in.User)
	sessionID := strings.TrimSpace(in.SessionID)
	if len(sessionID) > 64 {
		f.add("session_id", "is not a session ID")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	var out UserChange
	err := s.onUser(ctx, in.User, func(tx storage.Store, u *storage.User) error {
		out.User = userView(u)
		detail := ""
		if sessionID != "" {
			if err := tx.DeleteUserSession(ctx, u.ID, sessionID); errors.Is(err, storage.ErrNotFound) {
				return &NotFoundError{What: "session", Ref: sessionID}
			} else if err != nil {
				return err
			}
			out.SessionsEnded, detail = 1, "session "+sessionID+" ended"
		} else {
			n, err := s.endUserSessions(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			out.SessionsEnded, detail = n, sessionsDetail(n)
		}
		if out.Changed = out.SessionsEnded > 0; !out.Changed {
			return nil
		}
		return s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventUserSessionsEnded, UserID: u.ID,
			Identifier: u.Email, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
