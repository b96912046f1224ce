package cli

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/keys"
)

// withKeys runs fn with the signing-key manager of the configured
// database, on the command's clock (a test's, else the system's).
func withKeys(ctx context.Context, e env, cfg *Config, log *slog.Logger, fn func(m *keys.Manager) error) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if e.now != nil {
		a.keys.Now = e.now
	}
	return fn(a.keys)
}

type keysRotateCmd struct{}

func (c *keysRotateCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withKeys(ctx, e, cfg, log, func(m *keys.Manager) error {
		k, err := m.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "new %s key %s: published now, signs from %s\n", k.Algorithm, k.ID, k.ActiveAt.UTC().Format(time.RFC3339))
		return nil
	})
}

type keysListCmd struct{}

func (c *keysListCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withKeys(ctx, e, cfg, log, func(m *keys.Manager) error { return listKeys(ctx, e, m) })
}

func listKeys(ctx context.Context, e env, m *keys.Manager) error {
	list, err := m.List(ctx)
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
