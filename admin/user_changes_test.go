package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func sessionsOf(t *testing.T, st storage.Store, userID string, now time.Time) int {
	t.Helper()
	ss, err := st.ListSessions(t.Context(), userID, now)
	if err != nil {
		t.Fatal(err)
	}
	return len(ss)
}

func storedUser(t *testing.T, st storage.Store, id string) *storage.User {
	t.Helper()
	u, err := st.GetUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// wantOneRow checks the newest audit row is typ for the user, by alice.
func wantOneRow(t *testing.T, st storage.Store, typ string, u *User, detail string) {
	t.Helper()
	evs := auditOf(t, st, typ)
	if len(evs) != 1 {
		t.Fatalf("%d %s rows, want 1", len(evs), typ)
	}
	e := evs[0]
	if e.Actor != "cli:alice" || e.UserID != u.ID || e.Identifier != u.Email || e.Result != storage.ResultSuccess ||
		!strings.Contains(e.Detail, detail) {
		t.Errorf("%s row %+v, want detail containing %q", typ, e, detail)
	}
}

func wantConflict(t *testing.T, err error, says string) {
	t.Helper()
	var ce *ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), says) {
		t.Errorf("error %v, want a ConflictError saying %q", err, says)
	}
}

func TestDisableEndsSessionsOnceAndSparesTheOwner(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		owner := createUser(t, svc, "owner@example.com", "owner")
		ada := createUser(t, svc, "ada@example.com", "")
		seedSession(t, st, ada.ID, "a1", now)
		seedSession(t, st, ada.ID, "a2", now)
		seedSession(t, st, owner.ID, "o1", now)

		now = now.Add(time.Minute)
		ch, err := svc.DisableUser(ctx, alice, UserRef{User: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if !ch.Changed || ch.SessionsEnded != 2 || !ch.User.Disabled || !ch.User.UpdatedAt.Equal(now) ||
			!storedUser(t, st, ada.ID).Disabled || sessionsOf(t, st, ada.ID, now) != 0 {
			t.Errorf("disable: %+v", ch)
		}
		wantOneRow(t, st, mfa.EventUserDisabled, ada, "2 session(s) ended")

		again, err := svc.DisableUser(ctx, alice, UserRef{User: ada.ID})
		if err != nil || again.Changed || len(auditOf(t, st, mfa.EventUserDisabled)) != 1 {
			t.Errorf("disabling again: %+v, %v; want no change and no row", again, err)
		}

		_, err = svc.DisableUser(ctx, alice, UserRef{User: owner.ID})
		wantConflict(t, err, "owner")
		if storedUser(t, st, owner.ID).Disabled || sessionsOf(t, st, owner.ID, now) != 1 {
			t.Error("the refused disable changed the owner")
		}

		ch, err = svc.EnableUser(ctx, alice, UserRef{User: ada.ID})
		if err != nil || !ch.Changed || ch.User.Disabled || storedUser(t, st, ada.ID).Disabled {
			t.Errorf("enable: %+v, %v", ch, err)
		}
		wantOneRow(t, st, mfa.EventUserEnabled, ada, "")
		if ch, _ := svc.EnableUser(ctx, alice, UserRef{User: ada.ID}); ch.Changed {
			t.Error("enabling an enabled user changed something")
		}
		_, err = svc.DisableUser(ctx, alice, UserRef{User: "nobody"})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
	})
}

// auditFails is a store whose audit trail refuses every row, as a full
// disk or a broken connection would, inside its transactions too.
type auditFails struct{ storage.Store }

var errAuditDown = errors.New("audit trail down")

func (s auditFails) AppendAudit(context.Context, *storage.AuditEvent) error { return errAuditDown }

func (s auditFails) InTx(ctx context.Context, fn func(tx storage.Store) error) error {
	return s.Store.InTx(ctx, func(tx storage.Store) error { return fn(auditFails{tx}) })
}

// A change and its audit row are one transaction: without the row, nothing
// of the change remains.
func TestAChangeWithoutItsAuditRowIsRolledBack(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		seedSession(t, st, ada.ID, "a1", now)
		if err := st.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b1", UserID: ada.ID, Kind: storage.FactorTOTP,
			SealedSecret: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		broken := serviceAt(auditFails{st}, &now)
		on := true
		for name, op := range map[string]func() error{
			"disable":   func() error { _, err := broken.DisableUser(ctx, alice, UserRef{User: ada.ID}); return err },
			"reset otp": func() error { _, err := broken.ResetOTP(ctx, alice, UserRef{User: ada.ID}); return err },
			"set role": func() error {
				_, err := broken.SetRole(ctx, alice, SetRoleInput{User: ada.ID, Role: "owner"})
				return err
			},
			"bypass": func() error {
				_, err := broken.SetBypass(ctx, alice, SetBypassInput{User: ada.ID, Bypass: &on})
				return err
			},
			"password": func() error {
				_, err := broken.SetPassword(ctx, alice, SetPasswordInput{User: ada.ID, Password: "another password"})
				return err
			},
			"create": func() error {
				_, err := broken.CreateUser(ctx, alice, CreateUserInput{Email: "x@example.com", Password: testPassword})
				return err
			},
		} {
			if err := op(); !errors.Is(err, errAuditDown) {
				t.Errorf("%s: %v, want the audit error", name, err)
			}
		}
		u := storedUser(t, st, ada.ID)
		if u.Disabled || u.MFABypass || u.Role != storage.RoleMember || !u.UpdatedAt.Equal(testT0) ||
			sessionsOf(t, st, ada.ID, now) != 1 {
			t.Errorf("after refused changes: %+v", u)
		}
		if fs, _ := st.ListFactors(ctx, ada.ID); len(fs) != 1 {
			t.Errorf("binding gone with the refused reset")
		}
		if _, err := st.GetUserByEmail(ctx, "x@example.com"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("user created without an audit row: %v", err)
		}
	})
}

func TestSetPasswordReplacesTheHashAndEndsSessions(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		seedSession(t, st, ada.ID, "a1", now)
		ch, err := svc.SetPassword(ctx, alice, SetPasswordInput{User: ada.Email, Password: "a new long password"})
		if err != nil || !ch.Changed || ch.SessionsEnded != 1 {
			t.Fatalf("%+v, %v", ch, err)
		}
		hash := storedUser(t, st, ada.ID).PasswordHash
		if ok, _, _ := svc.Hasher.Verify(ctx, hash, "a new long password"); !ok {
			t.Error("new password does not verify")
		}
		if ok, _, _ := svc.Hasher.Verify(ctx, hash, testPassword); ok {
			t.Error("old password still verifies")
		}
		wantOneRow(t, st, mfa.EventUserPasswordSet, ada, "1 session(s) ended")
		if e := auditOf(t, st, mfa.EventUserPasswordSet)[0]; strings.Contains(e.Detail, "new long") {
			t.Errorf("password in the audit row: %q", e.Detail)
		}
		_, err = svc.SetPassword(ctx, alice, SetPasswordInput{User: ada.ID, Password: "short"})
		wantFields(t, err, "password")
	})
}

func TestSetRoleHandsOwnershipOverAndNeverLeavesNone(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		owner := createUser(t, svc, "owner@example.com", "owner")
		ada := createUser(t, svc, "ada@example.com", "")
		seedSession(t, st, owner.ID, "o1", now)
		seedSession(t, st, ada.ID, "a1", now)

		ch, err := svc.SetRole(ctx, alice, SetRoleInput{User: ada.ID, Role: "admin"})
		if err != nil || !ch.Changed || ch.User.Role != "admin" || ch.SessionsEnded != 0 {
			t.Fatalf("member to admin: %+v, %v", ch, err)
		}
		if same, _ := svc.SetRole(ctx, alice, SetRoleInput{User: ada.ID, Role: "admin"}); same.Changed {
			t.Error("setting the same role changed something")
		}
		_, err = svc.SetRole(ctx, alice, SetRoleInput{User: owner.ID, Role: "member"})
		wantConflict(t, err, "hand ownership over")

		ch, err = svc.SetRole(ctx, alice, SetRoleInput{User: ada.Email, Role: "owner"})
		if err != nil || !ch.Changed || ch.User.Role != "owner" || ch.SessionsEnded != 1 {
			t.Fatalf("hand over: %+v, %v", ch, err)
		}
		if r := storedUser(t, st, owner.ID).Role; r != storage.RoleAdmin {
			t.Errorf("former owner is %s, want admin", r)
		}
		if sessionsOf(t, st, owner.ID, now) != 0 || sessionsOf(t, st, ada.ID, now) != 1 {
			t.Error("hand-over should end the former owner's sessions only")
		}
		// Newest first: the new owner's row, the former owner's own row, then
		// ada's earlier promotion to admin.
		evs := auditOf(t, st, mfa.EventUserRoleSet)
		if len(evs) != 3 || evs[0].UserID != ada.ID ||
			!strings.Contains(evs[0].Detail, "role=owner (was admin); former owner owner@example.com") {
			t.Errorf("hand-over rows %+v", evs)
		}
		if len(evs) == 3 && (evs[1].UserID != owner.ID || !strings.Contains(evs[1].Detail, "role=admin (was owner): ownership handed to ada@example.com") ||
			!strings.Contains(evs[1].Detail, "1 session")) {
			t.Errorf("the former owner's trail lacks the demotion: %+v", evs[1])
		}

		if _, err := svc.DisableUser(ctx, alice, UserRef{User: owner.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.SetRole(ctx, alice, SetRoleInput{User: owner.ID, Role: "owner"})
		wantConflict(t, err, "disabled")
		if r := storedUser(t, st, ada.ID).Role; r != storage.RoleOwner {
			t.Errorf("refused hand-over to a disabled user still demoted the owner to %s", r)
		}
		_, err = svc.SetRole(ctx, alice, SetRoleInput{User: "", Role: "king"})
		wantFields(t, err, "user", "role")
	})
}

func TestResetOTPRemovesBindingAndCodesTogether(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		bob := createUser(t, svc, "bob@example.com", "")
		for _, u := range []*User{ada, bob} {
			if err := st.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b-" + u.ID, UserID: u.ID,
				Kind: storage.FactorTOTP, SealedSecret: []byte{1}, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if err := st.ConfirmFactor(ctx, "b-"+u.ID, now, 1); err != nil {
				t.Fatal(err)
			}
			if err := st.ReplaceBackupCodes(ctx, u.ID, []string{"h1", "h2"}, now); err != nil {
				t.Fatal(err)
			}
			seedSession(t, st, u.ID, "s-"+u.ID, now)
		}
		r, err := svc.ResetOTP(ctx, alice, UserRef{User: ada.Email})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Changed || !r.BindingRemoved || r.BackupCodesRemoved != 2 || r.SessionsEnded != 1 {
			t.Errorf("reset %+v", r)
		}
		if fs, _ := st.ListFactors(ctx, ada.ID); len(fs) != 0 {
			t.Errorf("bindings left: %+v", fs)
		}
		if n, _ := st.CountUnusedBackupCodes(ctx, ada.ID); n != 0 {
			t.Errorf("%d backup codes left", n)
		}
		if fs, _ := st.ListFactors(ctx, bob.ID); len(fs) != 1 || sessionsOf(t, st, bob.ID, now) != 1 {
			t.Error("another user's authenticator or session went too")
		}
		wantOneRow(t, st, mfa.EventUserOTPReset, ada, "binding removed true; 2 backup code(s) removed; 1 session(s) ended")
		again, err := svc.ResetOTP(ctx, alice, UserRef{User: ada.ID})
		if err != nil || again.Changed || len(auditOf(t, st, mfa.EventUserOTPReset)) != 1 {
			t.Errorf("nothing left to reset: %+v, %v", again, err)
		}
	})
}

func TestBypassOffEndsSessionsOnOnDoesNot(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		seedSession(t, st, ada.ID, "a1", now)
		on, off := true, false
		ch, err := svc.SetBypass(ctx, alice, SetBypassInput{User: ada.ID, Bypass: &on})
		if err != nil || !ch.Changed || !ch.User.MFABypass || ch.SessionsEnded != 0 || sessionsOf(t, st, ada.ID, now) != 1 {
			t.Fatalf("on: %+v, %v", ch, err)
		}
		if same, _ := svc.SetBypass(ctx, alice, SetBypassInput{User: ada.ID, Bypass: &on}); same.Changed {
			t.Error("bypass on twice changed something")
		}
		ch, err = svc.SetBypass(ctx, alice, SetBypassInput{User: ada.ID, Bypass: &off})
		if err != nil || !ch.Changed || ch.User.MFABypass || ch.SessionsEnded != 1 || sessionsOf(t, st, ada.ID, now) != 0 {
			t.Fatalf("off: %+v, %v", ch, err)
		}
		evs := auditOf(t, st, mfa.EventBypassChanged)
		if len(evs) != 2 || evs[0].Detail != "bypass=off; 1 session(s) ended" || evs[1].Detail != "bypass=on" {
			t.Errorf("bypass rows %+v", evs)
		}
		_, err = svc.SetBypass(ctx, alice, SetBypassInput{User: ada.ID})
		wantFields(t, err, "mfa_bypass")
	})
}

func TestUnlockClearsBothLocks(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		if ch, _ := svc.Unlock(ctx, alice, UserRef{User: ada.ID}); ch.Changed {
			t.Error("unlocking an unlocked user changed something")
		}
		lock := storage.Lockout{Threshold: 1, Duration: time.Hour}
		if _, err := st.ReservePasswordAttempt(ctx, ada.ID, now, lock); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ReserveMFAAttempt(ctx, ada.ID, now, lock); err != nil {
			t.Fatal(err)
		}
		ch, err := svc.Unlock(ctx, alice, UserRef{User: ada.Email})
		if err != nil || !ch.Changed {
			t.Fatalf("%+v, %v", ch, err)
		}
		u := storedUser(t, st, ada.ID)
		if u.PasswordFailures != 0 || u.MFAFailures != 0 || !u.PasswordLockedUntil.IsZero() || !u.MFALockedUntil.IsZero() {
			t.Errorf("still locked: %+v", u)
		}
		wantOneRow(t, st, mfa.EventAccountUnlocked, ada, "locked true")
	})
}

func TestRegeneratedBackupCodesWorkOnceAndReplaceTheOld(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		first, err := svc.RegenerateBackupCodes(ctx, alice, UserRef{User: ada.ID})
		if err != nil {
			t.Fatal(err)
		}
		second, err := svc.RegenerateBackupCodes(ctx, alice, UserRef{User: ada.Email})
		if err != nil {
			t.Fatal(err)
		}
		if len(second.Codes) != mfa.BackupCodeCount || second.User.ID != ada.ID {
			t.Fatalf("codes %+v", second)
		}
		hash := func(c string) string { h, _ := mfa.HashBackupCode(svc.CodeKey, c); return h }
		if err := st.UseBackupCode(ctx, ada.ID, hash(first.Codes[0]), now); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("an old code still works: %v", err)
		}
		if err := st.UseBackupCode(ctx, ada.ID, hash(second.Codes[3]), now); err != nil {
			t.Errorf("a new code does not work: %v", err)
		}
		if n, _ := st.CountUnusedBackupCodes(ctx, ada.ID); n != mfa.BackupCodeCount-1 {
			t.Errorf("%d codes left", n)
		}
		evs := auditOf(t, st, mfa.EventBackupCodesRegenerated)
		if len(evs) != 2 || evs[0].Detail != "10 codes" {
			t.Errorf("rows %+v", evs)
		}
		for _, c := range second.Codes {
			if strings.Contains(evs[0].Detail, c) {
				t.Error("a code in the audit row")
			}
		}
		svc.CodeKey = nil
		if _, err := svc.RegenerateBackupCodes(ctx, alice, UserRef{User: ada.ID}); err == nil {
			t.Error("no code key: codes were issued anyway")
		}
	})
}

func TestEndSessionsEndsOneOrAll(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		bob := createUser(t, svc, "bob@example.com", "")
		for _, k := range []string{"a1", "a2", "a3"} {
			seedSession(t, st, ada.ID, k, now)
		}
		seedSession(t, st, bob.ID, "b1", now)

		_, err := svc.EndSessions(ctx, alice, EndSessionsInput{User: ada.ID, SessionID: storage.SessionID("b1")})
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.What != "session" || sessionsOf(t, st, bob.ID, now) != 1 {
			t.Errorf("another user's session: %v", err)
		}
		ch, err := svc.EndSessions(ctx, alice, EndSessionsInput{User: ada.ID, SessionID: storage.SessionID("a2")})
		if err != nil || ch.SessionsEnded != 1 || sessionsOf(t, st, ada.ID, now) != 2 {
			t.Fatalf("one: %+v, %v", ch, err)
		}
		ch, err = svc.EndSessions(ctx, alice, EndSessionsInput{User: ada.Email})
		if err != nil || ch.SessionsEnded != 2 || sessionsOf(t, st, ada.ID, now) != 0 || sessionsOf(t, st, bob.ID, now) != 1 {
			t.Fatalf("all: %+v, %v", ch, err)
		}
		evs := auditOf(t, st, mfa.EventUserSessionsEnded)
		if len(evs) != 2 || evs[0].Detail != "2 session(s) ended" || evs[1].Detail != "session "+storage.SessionID("a2")+" ended" {
			t.Errorf("rows %+v", evs)
		}
		if ch, _ := svc.EndSessions(ctx, alice, EndSessionsInput{User: ada.ID}); ch.Changed {
			t.Error("no sessions left, yet something changed")
		}
	})
}
