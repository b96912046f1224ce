package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/storage"
)

// osActor is who a command acts as: the CLI and the operating-system user
// running it (from the system's user database, else $USER), if known.
func osActor(e env) admin.Actor {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if strings.TrimSpace(name) == "" && e.getenv != nil {
		name = e.getenv("USER")
	}
	return admin.CLI(name)
}

// cliActor is the Actor of the audit rows a command writes: "cli:" and the
// operating-system user, or just "cli" when it is not known.
func cliActor(e env) string { return osActor(e).String() }

type auditListCmd struct {
	User    string    `placeholder:"EMAIL_OR_ID" help:"only this user (email or ID)"`
	Client  string    `placeholder:"CLIENT_ID" help:"only this application"`
	Type    listValue `placeholder:"CODE" help:"only these event types, codes (repeatable, comma-separated): ${event_codes}"`
	Result  string    `placeholder:"success|failure" help:"only success or failure"`
	Since   string    `placeholder:"24h|RFC3339" help:"only events at or after a time (RFC 3339) or in the last duration (24h, 7d)"`
	Until   string    `placeholder:"24h|RFC3339" help:"only events before a time (RFC 3339) or before a duration ago (24h, 7d)"`
	IP      string    `name:"ip" placeholder:"ADDRESS" help:"only events from this client IP address"`
	Country string    `placeholder:"CC" help:"only events from this country (two letters, e.g. FR)"`
	Limit   int       `placeholder:"N" help:"the table: a page of N (0: 50, at most 500); --json/--csv: at most N (0: all)"`
	Cursor  string    `placeholder:"CURSOR" help:"from where the page that printed this cursor ended (same filters)"`
	JSON    bool      `name:"json" help:"print JSON"`
	CSV     bool      `name:"csv" help:"print CSV"`
}

func (c *auditListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.JSON && c.CSV {
		return usagef("choose one of --json and --csv")
	}
	now := time.Now
	if e.now != nil {
		now = e.now
	}
	in := admin.AuditQueryInput{User: c.User, ClientID: c.Client, Types: c.Type, Result: c.Result, IP: c.IP,
		Country: c.Country, Cursor: c.Cursor, Limit: c.Limit}
	var err error
	if in.Since, err = parseWhen("since", c.Since, now()); err != nil {
		return err
	}
	if in.Until, err = parseWhen("until", c.Until, now()); err != nil {
		return err
	}
	return withAdmin(ctx, e, cfg, log, func(s *admin.Service, _ admin.Actor) error {
		switch {
		case c.JSON:
			return adminError(s.ExportAudit(ctx, in, admin.AuditJSON, e.stdout))
		case c.CSV:
			return adminError(s.ExportAudit(ctx, in, admin.AuditCSV, e.stdout))
		}
		page, err := s.QueryAudit(ctx, in)
		if err != nil {
			return adminError(err)
		}
		rows := make([]storage.AuditEvent, len(page.Events))
		for i, ev := range page.Events {
			rows[i] = storage.AuditEvent{ID: ev.ID, At: ev.Time, Type: ev.Type, Actor: ev.Actor, UserID: ev.UserID,
				Identifier: ev.Identifier, ClientID: ev.ClientID, IP: ev.IP, Country: ev.Country, UserAgent: ev.UserAgent,
				Result: ev.Result, Reason: ev.Reason, Detail: ev.Detail}
		}
		if err := audit.WriteTable(e.stdout, rows); err != nil {
			return err
		}
		printNextCursor(e.stdout, page.NextCursor)
		return nil
	})
}

// parseWhen reads a --since or --until value (audit.ParseWhen).
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	t, err := audit.ParseWhen(s, now)
	if err != nil {
		return time.Time{}, usagef("--%s %q: %v", flag, strings.TrimSpace(s), err)
	}
	return t, nil
}

// printNextCursor says how to get the next page, when there is one.
func printNextCursor(w io.Writer, cursor string) {
	if cursor != "" {
		fmt.Fprintf(w, "next page: --cursor %s\n", cursor)
	}
}
