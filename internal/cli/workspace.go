package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

type workspaceShowCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *workspaceShowCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return workspacePolicy(ctx, e, cfg, log, false, onOff{}, "", c.JSON)
}

type workspaceSetCmd struct {
	MFARequired onOff  `name:"mfa-required" placeholder:"on|off" help:"on: every member but the owner needs a second factor on every application"`
	Factors     string `name:"factors" placeholder:"otp,email" help:"factors offered where an application enables none: otp,email (default both)"`
	JSON        bool   `name:"json" help:"print JSON"`
}

func (c *workspaceSetCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.MFARequired.v == nil && c.Factors == "" {
		return usagef("give --mfa-required=on|off and/or --factors")
	}
	return workspacePolicy(ctx, e, cfg, log, true, c.MFARequired, c.Factors, c.JSON)
}

// workspacePolicy shows the workspace policy or, with set, changes it.
func workspacePolicy(ctx context.Context, e env, cfg *Config, log *slog.Logger, set bool, required onOff, factors string, asJSON bool) error {
	a, err := openAdmin(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	var ws mfa.WorkspacePolicy
	// The policy is read and written in one transaction holding the factor
	// policy lock (see setFactors): a concurrent change of another field, or
	// of a client's factors, is neither undone nor decided on stale state.
	err = a.store.InTx(ctx, func(tx storage.Store) error {
		if set {
			if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
				return err
			}
		}
		cur, err := mfa.LoadWorkspace(ctx, tx)
		if err != nil || !set {
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
