package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

func cmdKeys(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	cfg, rest, log, err := load(e, "keys", args, nil)
	if err != nil {
		return err
	}
	rest = append(append([]string{action}, pos...), rest...)
	if len(rest) != 1 || !hasAction("keys", rest[0]) {
		return usagef("usage: stepgate keys list|rotate [flags]")
	}
	a, err := open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	if rest[0] == "rotate" {
		k, err := a.keys.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "new %s key %s: published now, signs from %s\n", k.Algorithm, k.ID, k.ActiveAt.UTC().Format(time.RFC3339))
		return nil
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
