package cli

import (
	"context"
	"flag"
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

func cmdAudit(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	var user, typ, result, since string
	var limit int
	var asJSON, asCSV bool
	cfg, rest, log, err := load(e, "audit "+action, args, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "only this user (email or ID)")
		fs.StringVar(&typ, "type", "", "only this event type, a code: "+mfa.EventCodeList())
		fs.StringVar(&result, "result", "", "only success or failure")
		fs.StringVar(&since, "since", "", "only events since a time (RFC 3339) or for a duration (24h, 7d)")
		fs.IntVar(&limit, "limit", 0, "at most this many, newest first (0: all)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.BoolVar(&asCSV, "csv", false, "print CSV")
	})
	if err != nil {
		return err
	}
	if !hasAction("audit", action) || len(pos)+len(rest) > 0 {
		return usagef("usage: stepgate audit list [--user U] [--type CODE] [--result success|failure] [--since D] [--json|--csv]")
	}
	if asJSON && asCSV {
		return usagef("choose one of --json and --csv")
	}
	f, err := audit.ParseFilter(user, typ, result, since, time.Now())
	if err != nil {
		return usagef("%v", err)
	}
	f.Limit = limit
	a, err := open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	if user != "" {
		u, err := findUser(ctx, a.store, user)
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
