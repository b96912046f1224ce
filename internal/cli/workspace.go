package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// cmdWorkspace shows or changes the workspace policy.
func cmdWorkspace(ctx context.Context, e env, args []string) error {
	action, pos, args := splitAction(args)
	var required onOff
	var factors string
	var asJSON bool
	cfg, rest, log, err := load(e, "workspace "+action, args, func(fs *flag.FlagSet) {
		if action == "set" {
			fs.Var(&required, "mfa-required", "on: every member but the owner needs a second factor on every application")
			fs.StringVar(&factors, "factors", "", "factors offered where an application enables none: otp,email (default both)")
		}
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	})
	if err != nil {
		return err
	}
	if !hasAction("workspace", action) || len(pos)+len(rest) > 0 {
		return usagef("usage: stepgate workspace show | set [--mfa-required=on|off] [--factors=otp,email]")
	}
	a, err := open(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer a.close()
	if action == "set" && required.v == nil && factors == "" {
		return usagef("give --mfa-required=on|off and/or --factors")
	}
	var ws mfa.WorkspacePolicy
	// The policy is read and written in one transaction holding the factor
	// policy lock (see setFactors): a concurrent change of another field, or
	// of a client's factors, is neither undone nor decided on stale state.
	err = a.store.InTx(ctx, func(tx storage.Store) error {
		if action == "set" {
			if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
				return err
			}
		}
		cur, err := mfa.LoadWorkspace(ctx, tx)
		if err != nil || action != "set" {
			ws = cur
			return err
		}
		if required.v != nil {
			cur.MFARequired = *required.v
		}
		if factors != "" {
			cur.Factors = nil
			for _, f := range strings.Split(factors, ",") {
				cur.Factors = append(cur.Factors, strings.TrimSpace(f))
			}
		}
		raw, _ := json.Marshal(cur)
		if _, err := mfa.ParseWorkspace(raw); err != nil {
			return usagef("%v", err)
		}
		now := time.Now().UTC()
		if err := tx.PutSetting(ctx, mfa.WorkspaceSetting, raw, now); err != nil {
			return err
		}
		ws = cur
		return tx.AppendAudit(ctx, &storage.AuditEvent{At: now, Type: mfa.EventWorkspacePolicyChanged, Actor: cliActor(e),
			Result: storage.ResultSuccess, Detail: string(raw)})
	})
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, ws)
	}
	fmt.Fprintf(e.stdout, "mfa-required=%s factors=%s\n", onOffString(ws.MFARequired), strings.Join(ws.EffectiveFactors(), ","))
	return nil
}
