package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/server"
	"github.com/stepgate/stepgate/storage"
)

// splitAction takes "create" (and any leading positional arguments) off the
// front of args, so that flags may follow them.
func splitAction(args []string) (action string, pos, flags []string) {
	if len(args) == 0 {
		return "", nil, nil
	}
	action, args = args[0], args[1:]
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = append(pos, args[0]), args[1:]
	}
	return action, pos, args
}

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

func cmdUser(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	var email, name, role string
	var passwordStdin, asJSON, on, off bool
	cfg, rest, log, err := load(e, "user "+action, args, func(fs *flag.FlagSet) {
		switch action {
		case "create":
			fs.StringVar(&email, "email", "", "email address (the login name)")
			fs.StringVar(&name, "name", "", "display name")
			fs.StringVar(&role, "role", "member", "owner, admin or member")
			fallthrough
		case "set-password":
			fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
		}
		if action == "set-mfa-bypass" {
			fs.BoolVar(&on, "on", false, "never ask this user for a second factor by policy")
			fs.BoolVar(&off, "off", false, "put the user back under policy")
		}
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	pos = append(pos, rest...)
	if action == "backup-codes" {
		if len(pos) == 0 || pos[0] != "regenerate" {
			return usagef("usage: stepgate user backup-codes regenerate EMAIL_OR_ID")
		}
		action, pos = "backup-codes regenerate", pos[1:]
	}
	if !hasAction("user", action) {
		return usagef("usage: stepgate user create|list|set-password|disable|unlock|set-mfa-bypass|backup-codes regenerate")
	}
	a, err := open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	now := time.Now().UTC()

	switch action {
	case "create":
		if email == "" || !strings.Contains(email, "@") || len(email) > 320 {
			return usagef("--email must be an email address")
		}
		if !storage.Role(role).Valid() {
			return usagef("--role must be owner, admin or member")
		}
		if !passwordStdin {
			return usagef("give the password on standard input with --password-stdin")
		}
		pw, err := readPassword(e.stdin)
		if err != nil {
			return err
		}
		phc, err := newHasher().Hash(ctx, pw)
		if err != nil {
			return err
		}
		u := &storage.User{ID: op.NewID(), Email: email, Name: name, Role: storage.Role(role), PasswordHash: phc,
			CreatedAt: now, UpdatedAt: now}
		if err := a.store.CreateUser(ctx, u); errors.Is(err, storage.ErrConflict) {
			if role == string(storage.RoleOwner) {
				return errors.New("a user with that email, or an owner, already exists (there can be only one owner)")
			}
			return errors.New("a user with that email already exists")
		} else if err != nil {
			return err
		}
		if asJSON {
			return printJSON(e.stdout, toUserJSON(u))
		}
		fmt.Fprintf(e.stdout, "created user %s (%s, %s)\n", u.ID, u.Email, u.Role)
		return nil

	case "list":
		users, err := a.store.ListUsers(ctx)
		if err != nil {
			return err
		}
		if asJSON {
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

	if len(pos) != 1 {
		return usagef("usage: stepgate user %s EMAIL_OR_ID", action)
	}
	u, err := findUser(ctx, a.store, pos[0])
	if err != nil {
		return err
	}
	switch action {
	case "unlock":
		return unlockUser(ctx, a, e, u)
	case "backup-codes regenerate":
		return regenerateBackupCodes(ctx, a, e, u, asJSON)
	}
	var hash string
	switch action {
	case "set-password":
		if !passwordStdin {
			return usagef("give the password on standard input with --password-stdin")
		}
		pw, err := readPassword(e.stdin)
		if err != nil {
			return err
		}
		if hash, err = newHasher().Hash(ctx, pw); err != nil {
			return err
		}
	case "set-mfa-bypass":
		if on == off {
			return usagef("give exactly one of --on and --off")
		}
	}
	// The change is made on the record as it is inside the transaction, and
	// what follows from it is decided from that same record, so neither a
	// concurrent change nor a stale copy can be written back.
	endSessions := false
	err = a.store.InTx(ctx, func(tx storage.Store) error {
		var before storage.User
		u, err = tx.UpdateUser(ctx, u.ID, func(cur *storage.User) error {
			before = *cur
			switch action {
			case "set-password":
				cur.PasswordHash = hash
			case "disable":
				cur.Disabled = true
			case "set-mfa-bypass":
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
		endSessions = action != "set-mfa-bypass" || (before.MFABypass && !on)
		if action == "set-mfa-bypass" {
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
	if action == "set-mfa-bypass" {
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
