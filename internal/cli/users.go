package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/server"
	"github.com/stepgate/stepgate/storage"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readPassword reads one line from stdin: the password, never a flag, so
// it stays out of shell history and process listings.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		return "", usagef("the password must have at least 8 characters")
	}
	if len(pw) > 1024 {
		return "", usagef("the password must have at most 1024 characters")
	}
	return pw, nil
}

func newHasher() *login.Hasher { return login.NewHasher(login.DefaultParams, 1, time.Minute) }

type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	MFABypass bool      `json:"mfa_bypass"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserJSON(u *storage.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled,
		MFABypass: u.MFABypass, CreatedAt: u.CreatedAt}
}

// userRef is the argument of the commands that act on one user.
type userRef struct {
	User string `arg:"" name:"email-or-id" help:"the user's email address or ID"`
}

type userCreateCmd struct {
	Email         string `placeholder:"EMAIL" help:"email address (the login name)"`
	Name          string `placeholder:"NAME" help:"display name"`
	Role          string `default:"member" placeholder:"owner|admin|member" help:"owner, admin or member"`
	PasswordStdin bool   `name:"password-stdin" help:"read the password from standard input (required)"`
	JSON          bool   `name:"json" help:"print JSON"`
}

func (c *userCreateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.Email == "" || !strings.Contains(c.Email, "@") || len(c.Email) > 320 {
		return usagef("--email must be an email address")
	}
	if !storage.Role(c.Role).Valid() {
		return usagef("--role must be owner, admin or member")
	}
	if !c.PasswordStdin {
		return usagef("give the password on standard input with --password-stdin")
	}
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	now := time.Now().UTC()
	pw, err := readPassword(e.stdin)
	if err != nil {
		return err
	}
	phc, err := newHasher().Hash(ctx, pw)
	if err != nil {
		return err
	}
	u := &storage.User{ID: op.NewID(), Email: c.Email, Name: c.Name, Role: storage.Role(c.Role), PasswordHash: phc,
		CreatedAt: now, UpdatedAt: now}
	if err := a.store.CreateUser(ctx, u); errors.Is(err, storage.ErrConflict) {
		if c.Role == string(storage.RoleOwner) {
			return errors.New("a user with that email, or an owner, already exists (there can be only one owner)")
		}
		return errors.New("a user with that email already exists")
	} else if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, toUserJSON(u))
	}
	fmt.Fprintf(e.stdout, "created user %s (%s, %s)\n", u.ID, u.Email, u.Role)
	return nil
}

type userListCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	users, err := a.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		out := make([]userJSON, 0, len(users))
		for i := range users {
			out = append(out, toUserJSON(&users[i]))
		}
		return printJSON(e.stdout, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATUS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, status)
	}
	return tw.Flush()
}

type userSetPasswordCmd struct {
	userRef
	PasswordStdin bool `name:"password-stdin" help:"read the password from standard input (required)"`
	JSON          bool `name:"json" help:"print JSON"`
}

func (c *userSetPasswordCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if !c.PasswordStdin {
		return usagef("give the password on standard input with --password-stdin")
	}
	return withUser(ctx, e, cfg, log, c.User, func(a *app, u *storage.User) error {
		pw, err := readPassword(e.stdin)
		if err != nil {
			return err
		}
		hash, err := newHasher().Hash(ctx, pw)
		if err != nil {
			return err
		}
		return updateUser(ctx, a, e, u, userChange{password: hash}, c.JSON)
	})
}

type userDisableCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userDisableCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUser(ctx, e, cfg, log, c.User, func(a *app, u *storage.User) error {
		return updateUser(ctx, a, e, u, userChange{disable: true}, c.JSON)
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
	return withUser(ctx, e, cfg, log, c.User, func(a *app, u *storage.User) error {
		return updateUser(ctx, a, e, u, userChange{bypass: &c.On}, c.JSON)
	})
}

type userUnlockCmd struct {
	userRef
}

func (c *userUnlockCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUser(ctx, e, cfg, log, c.User, func(a *app, u *storage.User) error {
		return unlockUser(ctx, a, e, u)
	})
}

type userBackupCodesRegenerateCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userBackupCodesRegenerateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUser(ctx, e, cfg, log, c.User, func(a *app, u *storage.User) error {
		return regenerateBackupCodes(ctx, a, e, u, c.JSON)
	})
}

// withUser opens the database, finds the user by email or ID and runs fn.
func withUser(ctx context.Context, e env, cfg *Config, log *slog.Logger, ref string, fn func(a *app, u *storage.User) error) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	u, err := findUser(ctx, a.store, ref)
	if err != nil {
		return err
	}
	return fn(a, u)
}

// userChange is one of set-password (the new hash), disable and
// set-mfa-bypass.
type userChange struct {
	password string
	disable  bool
	bypass   *bool
}

// updateUser makes the change on the record as it is inside the
// transaction, and decides what follows from it from that same record, so
// neither a concurrent change nor a stale copy can be written back.
func updateUser(ctx context.Context, a *app, e env, u *storage.User, ch userChange, asJSON bool) error {
	now := time.Now().UTC()
	on := ch.bypass != nil && *ch.bypass
	endSessions := false
	err := a.store.InTx(ctx, func(tx storage.Store) error {
		var before storage.User
		var err error
		u, err = tx.UpdateUser(ctx, u.ID, func(cur *storage.User) error {
			before = *cur
			switch {
			case ch.password != "":
				cur.PasswordHash = ch.password
			case ch.disable:
				cur.Disabled = true
			case ch.bypass != nil:
				cur.MFABypass = on
			}
			cur.UpdatedAt = now
			return nil
		})
		if err != nil {
			return err
		}
		// A new password, a disabled account or the end of a bypass ends
		// every SSO session: the next login starts under the current rules.
		// Sessions opened while a bypass was on end with it.
		endSessions = ch.bypass == nil || (before.MFABypass && !on)
		if ch.bypass != nil {
			if err := tx.AppendAudit(ctx, &storage.AuditEvent{At: now, Type: mfa.EventBypassChanged, Actor: cliActor(e), UserID: u.ID,
				Identifier: u.Email, Result: storage.ResultSuccess, Detail: "bypass=" + onOffString(on)}); err != nil {
				return err
			}
		}
		if !endSessions {
			return nil
		}
		return tx.DeleteUserSessions(ctx, u.ID)
	})
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, toUserJSON(u))
	}
	if ch.bypass != nil {
		msg := "user %s: MFA bypass " + onOffString(on) + "\n"
		if endSessions {
			msg = "user %s: MFA bypass off; their sessions were ended\n"
		}
		fmt.Fprintf(e.stdout, msg, u.Email)
		return nil
	}
	fmt.Fprintf(e.stdout, "user %s updated; their sessions were ended\n", u.Email)
	return nil
}

func findUser(ctx context.Context, st storage.Store, ref string) (*storage.User, error) {
	var u *storage.User
	var err error
	if strings.Contains(ref, "@") {
		u, err = st.GetUserByEmail(ctx, ref)
	} else {
		u, err = st.GetUser(ctx, ref)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("no user %q", ref)
	}
	return u, err
}

// unlockUser ends password and second-factor locks early, audited in the
// same transaction.
func unlockUser(ctx context.Context, a *app, e env, u *storage.User) error {
	err := a.store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.ResetMFAFailures(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.ResetPasswordFailures(ctx, u.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &storage.AuditEvent{At: time.Now().UTC(), Type: mfa.EventAccountUnlocked,
			Actor: cliActor(e), UserID: u.ID, Identifier: u.Email, Result: storage.ResultSuccess})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s unlocked\n", u.Email)
	return nil
}

// regenerateBackupCodes replaces the user's backup codes with a new set and
// prints it once; the old codes stop working in the same transaction.
func regenerateBackupCodes(ctx context.Context, a *app, e env, u *storage.User, asJSON bool) error {
	codes, err := mfa.NewBackupCodes(rand.Reader, mfa.BackupCodeCount)
	if err != nil {
		return err
	}
	key := a.master.Derive(server.CodeKeyPurpose)
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i], _ = mfa.HashBackupCode(key, c)
	}
	now := time.Now().UTC()
	err = a.store.InTx(ctx, func(tx storage.Store) error {
		if err := tx.ReplaceBackupCodes(ctx, u.ID, hashes, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &storage.AuditEvent{At: now, Type: mfa.EventBackupCodesRegenerated,
			Actor: cliActor(e), UserID: u.ID, Identifier: u.Email, Result: storage.ResultSuccess})
	})
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, map[string]any{"user_id": u.ID, "backup_codes": codes})
	}
	fmt.Fprintf(e.stdout, "New backup codes for %s (the old ones no longer work; shown only now):\n", u.Email)
	for _, c := range codes {
		fmt.Fprintln(e.stdout, "  "+c)
	}
	return nil
}
