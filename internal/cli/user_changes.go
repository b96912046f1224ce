package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/stepgate/stepgate/admin"
)

// userChangeJSON is what --json prints for a change: the user as it is
// now, whether anything changed, and how many live sessions it ended.
type userChangeJSON struct {
	admin.User
	Changed       bool `json:"changed"`
	SessionsEnded int  `json:"sessions_ended"`
}

// printUserChange prints what a change did: JSON, or done (when it
// changed something) or unchanged, with the sessions it ended.
func printUserChange(e env, ch *admin.UserChange, asJSON bool, done, unchanged string) error {
	if asJSON {
		return printJSON(e.stdout, userChangeJSON{User: ch.User, Changed: ch.Changed, SessionsEnded: ch.SessionsEnded})
	}
	if !ch.Changed {
		fmt.Fprintf(e.stdout, "user %s %s; nothing changed\n", ch.User.Email, unchanged)
		return nil
	}
	fmt.Fprintf(e.stdout, "user %s %s%s\n", ch.User.Email, done, sessionsEnded(ch.SessionsEnded))
	return nil
}

// changeUser makes one change with withUsers and prints what it did
// (printUserChange).
func changeUser(ctx context.Context, e env, cfg *Config, log *slog.Logger, asJSON bool, done, unchanged string,
	change func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error)) error {
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		ch, err := change(s, actor)
		if err != nil {
			return err
		}
		return printUserChange(e, ch, asJSON, done, unchanged)
	})
}

func sessionsEnded(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d session(s) ended", n)
}

type userSetPasswordCmd struct {
	userRef
	PasswordStdin bool `name:"password-stdin" help:"read the password from standard input (required)"`
	JSON          bool `name:"json" help:"print JSON"`
}

func (c *userSetPasswordCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	pw, err := readPassword(e, c.PasswordStdin)
	if err != nil {
		return err
	}
	return changeUser(ctx, e, cfg, log, c.JSON, "has a new password", "",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.SetPassword(ctx, actor, admin.SetPasswordInput{User: c.User, Password: pw})
		})
}

type userDisableCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userDisableCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return changeUser(ctx, e, cfg, log, c.JSON, "disabled", "is already disabled",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.DisableUser(ctx, actor, admin.UserRef{User: c.User})
		})
}

type userEnableCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userEnableCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return changeUser(ctx, e, cfg, log, c.JSON, "enabled", "is not disabled",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.EnableUser(ctx, actor, admin.UserRef{User: c.User})
		})
}

type userSetRoleCmd struct {
	userRef
	Role string `required:"" placeholder:"owner|admin|member" help:"the new role; making a user owner makes the owner an admin"`
	JSON bool   `name:"json" help:"print JSON"`
}

func (c *userSetRoleCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		ch, err := s.SetRole(ctx, actor, admin.SetRoleInput{User: c.User, Role: c.Role})
		if err != nil {
			return err
		}
		done := "is now " + ch.User.Role
		if ch.User.Role == "owner" {
			done += " (the owner before, if any, is now an admin)"
		}
		return printUserChange(e, ch, c.JSON, done, "is "+ch.User.Role+" already")
	})
}

type userSetMFABypassCmd struct {
	userRef
	On   bool `name:"on" help:"never ask this user for a second factor by policy"`
	Off  bool `name:"off" help:"put the user back under policy"`
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userSetMFABypassCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.On == c.Off {
		return usagef("give exactly one of --on and --off")
	}
	word := onOffString(c.On)
	return changeUser(ctx, e, cfg, log, c.JSON, "has MFA bypass "+word, "has MFA bypass "+word+" already",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.SetBypass(ctx, actor, admin.SetBypassInput{User: c.User, Bypass: &c.On})
		})
}

type userUnlockCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userUnlockCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return changeUser(ctx, e, cfg, log, c.JSON, "unlocked (failure counts cleared)", "has no lock or failed attempts",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.Unlock(ctx, actor, admin.UserRef{User: c.User})
		})
}

type userEndSessionsCmd struct {
	userRef
	Session string `placeholder:"SESSION_ID" help:"only this session (an ID user show lists); default: all"`
	JSON    bool   `name:"json" help:"print JSON"`
}

func (c *userEndSessionsCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return changeUser(ctx, e, cfg, log, c.JSON, "is signed out", "has no live session",
		func(s *admin.Service, actor admin.Actor) (*admin.UserChange, error) {
			return s.EndSessions(ctx, actor, admin.EndSessionsInput{User: c.User, SessionID: c.Session})
		})
}

// userOTPResetJSON is what reset-otp --json prints.
type userOTPResetJSON struct {
	userChangeJSON
	BindingRemoved     bool `json:"binding_removed"`
	BackupCodesRemoved int  `json:"backup_codes_removed"`
}

type userResetOTPCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userResetOTPCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		r, err := s.ResetOTP(ctx, actor, admin.UserRef{User: c.User})
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, userOTPResetJSON{
				userChangeJSON: userChangeJSON{User: r.User, Changed: r.Changed, SessionsEnded: r.SessionsEnded},
				BindingRemoved: r.BindingRemoved, BackupCodesRemoved: r.BackupCodesRemoved})
		}
		binding := "no authenticator was bound"
		if r.BindingRemoved {
			binding = "authenticator binding removed"
		}
		done := fmt.Sprintf("is reset: %s, %d backup code(s) removed; the next login binds anew where OTP is required",
			binding, r.BackupCodesRemoved)
		return printUserChange(e, &r.UserChange, false, done, "has no authenticator or backup codes")
	})
}

type userBackupCodesRegenerateCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userBackupCodesRegenerateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		bc, err := s.RegenerateBackupCodes(ctx, actor, admin.UserRef{User: c.User})
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, map[string]any{"user_id": bc.User.ID, "backup_codes": bc.Codes})
		}
		fmt.Fprintf(e.stdout, "New backup codes for %s (the old ones no longer work; shown only now):\n", bc.User.Email)
		for _, code := range bc.Codes {
			fmt.Fprintln(e.stdout, "  "+code)
		}
		return nil
	})
}
