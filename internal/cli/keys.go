package cli

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"
)

type keysRotateCmd struct{}

func (c *keysRotateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if e.now != nil {
		a.keys.Now = e.now
	}
	k, err := a.keys.Rotate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "new %s key %s: published now, signs from %s\n", k.Algorithm, k.ID, k.ActiveAt.UTC().Format(time.RFC3339))
	return nil
}

type keysListCmd struct{}

func (c *keysListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if e.now != nil {
		a.keys.Now = e.now
	}
	list, err := a.keys.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tCREATED\tACTIVE FROM\tSTATE")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.CreatedAt.UTC().Format(time.RFC3339),
			k.ActiveAt.UTC().Format(time.RFC3339), k.Status())
	}
	return tw.Flush()
}
