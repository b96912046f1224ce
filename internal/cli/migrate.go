package cli

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// migrateUpCmd applies the pending migrations; it creates the database
// where there is none.
type migrateUpCmd struct{}

func (c *migrateUpCmd) run(ctx context.Context, e env, cfg *Config, _ *slog.Logger) error {
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Timeout(cfg.DatabaseTimeout))
	if err != nil {
		return err
	}
	defer st.Close()
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

type migrateStatusCmd struct{}

func (c *migrateStatusCmd) run(ctx context.Context, e env, cfg *Config, _ *slog.Logger) error {
	if err := checkDevData(cfg); err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.Database, sqlstore.Timeout(cfg.DatabaseTimeout))
	if err != nil {
		return err
	}
	defer st.Close()
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
