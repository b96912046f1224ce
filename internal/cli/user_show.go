package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/admin"
)

type userShowCmd struct {
	userRef
	JSON bool `name:"json" help:"print JSON"`
}

func (c *userShowCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withUsers(ctx, e, cfg, log, func(s *admin.Service, _ admin.Actor) error {
		d, err := s.ShowUser(ctx, admin.UserRef{User: c.User})
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(e.stdout, d)
		}
		return writeUserDetail(e.stdout, d)
	})
}

// writeUserDetail shows one user for a terminal: the account, its locks,
// its second factors and its live sessions.
func writeUserDetail(w io.Writer, d *admin.UserDetail) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	row("id", "%s", d.ID)
	row("email", "%s", d.Email)
	row("name", "%s", userName(d.User))
	row("role", "%s", d.Role)
	row("status", "%s", userStatus(d.User))
	row("mfa bypass", "%s", onOffString(d.MFABypass))
	row("password lock", "%s (%d failure(s))", lockWord(d.PasswordLockedUntil), d.PasswordFailures)
	row("second-factor lock", "%s (%d failure(s))", lockWord(d.MFALockedUntil), d.MFAFailures)
	if len(d.Factors) == 0 {
		row("factors", "none")
	}
	for _, f := range d.Factors {
		if f.Pending {
			row("factors", "%s: pending since %s (set up, not yet confirmed)", f.Kind, showTime(&f.CreatedAt))
			continue
		}
		row("factors", "%s: bound %s, last used %s", f.Kind, showTime(f.BoundAt), showTime(f.LastUsedAt))
	}
	row("backup codes", "%d left", d.BackupCodesLeft)
	row("created", "%s", showTime(&d.CreatedAt))
	row("sessions", "%d live", len(d.Sessions))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.Sessions) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tCREATED\tLAST SEEN\tEXPIRES\tFACTORS\tCLIENTS")
	for _, ss := range d.Sessions {
		var factors []string
		for _, f := range ss.Factors {
			factors = append(factors, f.Method)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ss.ID, showTime(&ss.CreatedAt), showTime(&ss.LastSeenAt), showTime(&ss.ExpiresAt),
			showList(factors), showList(ss.ClientIDs))
	}
	return tw.Flush()
}

func lockWord(until *time.Time) string {
	if until == nil {
		return "not locked"
	}
	return "locked until " + showTime(until)
}

// showTime is a time for a terminal, or "never".
func showTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func showList(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}
