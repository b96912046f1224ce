package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/login"
)

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readPassword reads one line from stdin: the password, never a flag, so
// it stays out of shell history and process listings; without
// --password-stdin (passwordStdin) it is a usage error. What a password
// must be is the admin core's rule.
func readPassword(e env, passwordStdin bool) (string, error) {
	if !passwordStdin {
		return "", usagef("give the password on standard input with --password-stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newHasher() *login.Hasher { return login.NewHasher(login.DefaultParams, 1, time.Minute) }

// userRef is the argument of the commands that act on one user.
type userRef struct {
	User string `arg:"" name:"email-or-id" help:"the user's email address or ID"`
}

// withUsers is withAdmin for the user commands: what op returns is said
// their way (userError).
func withUsers(ctx context.Context, e env, cfg *Config, log *slog.Logger, op func(s *admin.Service, actor admin.Actor) error) error {
	return withAdmin(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		return userError(op(s, actor))
	})
}

// userError is adminError for the user commands, whose user is their
// argument <email-or-id>, not a flag.
func userError(err error) error {
	var fe admin.FieldErrors
	if !errors.As(err, &fe) {
		return adminError(err)
	}
	var parts []string
	var rest admin.FieldErrors
	for _, f := range fe {
		if f.Field == "user" {
			parts = append(parts, "<email-or-id>: "+f.Reason)
		} else {
			rest = append(rest, f)
		}
	}
	if len(parts) == 0 {
		return adminError(err)
	}
	var ue usageError
	if len(rest) > 0 && errors.As(adminError(rest), &ue) {
		parts = append(parts, ue.msg)
	}
	return usageError{strings.Join(parts, "; ")}
}

type userCreateCmd struct {
	Email         string `placeholder:"EMAIL" help:"email address (the login name)"`
	Name          string `placeholder:"NAME" help:"display name"`
	Role          string `default:"member" placeholder:"owner|admin|member" help:"owner, admin or member"`
	PasswordStdin bool   `name:"password-stdin" help:"read the password from standard input (required)"`
	JSON          bool   `name:"json" help:"print JSON"`
}

func (c *userCreateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	pw, err := readPassword(e, c.PasswordStdin)
	if err != nil {
		return err
	}
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, actor admin.Actor) error {
		u, err := s.CreateUser(ctx, actor, admin.CreateUserInput{Email: c.Email, Name: c.Name, Role: c.Role, Password: pw})
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, u)
		}
		fmt.Fprintf(e.stdout, "created user %s (%s, %s)\n", u.ID, u.Email, u.Role)
		return nil
	})
}

type userListCmd struct {
	Search   string `placeholder:"TEXT" help:"only users whose email or name contains this (any case)"`
	Bound    bool   `xor:"bound" help:"only users with an authenticator app bound"`
	Unbound  bool   `xor:"bound" help:"only users without one"`
	Locked   bool   `help:"only users locked out now (password or second factor)"`
	Bypass   bool   `help:"only users exempt from MFA policy"`
	Disabled bool   `help:"only disabled users"`
	Role     string `placeholder:"owner|admin|member" help:"only users with this role"`
	Limit    int    `placeholder:"N" help:"at most this many, by email (0: 50; at most 500)"`
	Cursor   string `placeholder:"CURSOR" help:"the page after the one that printed this cursor (same filters)"`
	JSON     bool   `name:"json" help:"print JSON"`
}

// userFilter is a filter flag: set, it asks for that state; unset, for any.
func userFilter(set bool) *bool {
	if !set {
		return nil
	}
	return &set
}

func (c *userListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	in := admin.ListUsersInput{Search: c.Search, Locked: userFilter(c.Locked), Bypass: userFilter(c.Bypass),
		Disabled: userFilter(c.Disabled), Role: c.Role, Cursor: c.Cursor, Limit: c.Limit}
	if c.Bound || c.Unbound {
		in.TOTPBound = &c.Bound
	}
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, _ admin.Actor) error {
		list, err := s.ListUsers(ctx, in)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, list)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tSTATUS\tOTP\tBYPASS\tLOCKED")
		for _, u := range list.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, userName(u.User), u.Role, userStatus(u.User),
				otpWord(u.TOTPBound), onOffString(u.MFABypass), lockedUntil(u.LockState))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d of %d user(s)\n", len(list.Users), list.Total)
		printNextCursor(e.stdout, list.NextCursor)
		return nil
	})
}

func userName(u admin.User) string {
	if u.Name == "" {
		return "-"
	}
	return u.Name
}

func userStatus(u admin.User) string {
	if u.Disabled {
		return "disabled"
	}
	return "active"
}

func otpWord(b bool) string {
	if b {
		return "bound"
	}
	return "-"
}

// lockedUntil is "-", or until when the user is locked out: the later of
// the two locks' ends.
func lockedUntil(l admin.LockState) string {
	var until time.Time
	for _, t := range []*time.Time{l.PasswordLockedUntil, l.MFALockedUntil} {
		if t != nil && t.After(until) {
			until = *t
		}
	}
	if until.IsZero() {
		return "-"
	}
	return "until " + until.UTC().Format(time.RFC3339)
}
