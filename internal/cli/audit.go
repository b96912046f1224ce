package cli

import (
	"context"
	"log/slog"
	"os/user"
	"strings"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
)

// cliActor is the Actor of the audit rows a command writes: "cli:" and the
// operating-system user running it (from the system's user database, else
// $USER), or just "cli" when neither is known.
func cliActor(e env) string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" && e.getenv != nil {
		name = e.getenv("USER")
	}
	if name = strings.TrimSpace(name); name == "" {
		return mfa.ActorCLI
	}
	return mfa.ActorCLI + ":" + name
}

type auditListCmd struct {
	User   string `placeholder:"EMAIL_OR_ID" help:"only this user (email or ID)"`
	Type   string `placeholder:"CODE" help:"only this event type, a code: ${event_codes}"`
	Result string `placeholder:"success|failure" help:"only success or failure"`
	Since  string `placeholder:"24h|RFC3339" help:"only events since a time (RFC 3339) or for a duration (24h, 7d)"`
	Limit  int    `placeholder:"N" help:"at most this many, newest first (0: all)"`
	JSON   bool   `name:"json" help:"print JSON"`
	CSV    bool   `name:"csv" help:"print CSV"`
}

func (c *auditListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	asJSON, asCSV := c.JSON, c.CSV
	if asJSON && asCSV {
		return usagef("choose one of --json and --csv")
	}
	f, err := audit.ParseFilter(c.User, c.Type, c.Result, c.Since, time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	f.Limit = c.Limit
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if c.User != "" {
		u, err := findUser(ctx, a.store, c.User)
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	events, err := a.store.ListAudit(ctx, f)
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		return audit.WriteJSON(e.stdout, events)
	case asCSV:
		return audit.WriteCSV(e.stdout, events)
	default:
		return audit.WriteTable(e.stdout, events)
	}
}
