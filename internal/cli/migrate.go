package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	cfg, rest, _, err := load(e, "migrate", args, nil)
	if err != nil {
		return err
	}
	rest = append(append([]string{action}, pos...), rest...)
	if len(rest) != 1 || !hasAction("migrate", rest[0]) {
		return usagef("usage: stepgate migrate up|status [flags]")
	}
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Timeout(cfg.DatabaseTimeout))
	if err != nil {
		return err
	}
	defer st.Close()
	if rest[0] == "up" {
		applied, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(e.stdout, "schema is up to date; nothing applied")
			return nil
		}
		for _, v := range applied {
			fmt.Fprintf(e.stdout, "applied %04d\n", v)
		}
		return nil
	}
	list, maxApplied, err := migrations.StatusOf(ctx, st.DB(), st.Dialect())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSTATUS")
	for _, s := range list {
		status := "pending"
		if !s.AppliedAt.IsZero() {
			status = "applied " + s.AppliedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", s.Version, s.Name, status)
	}
	tw.Flush()
	if maxApplied > len(list) {
		fmt.Fprintf(e.stdout, "database is at version %d, newer than this binary knows (%d)\n", maxApplied, len(list))
	}
	return nil
}
