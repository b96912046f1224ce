package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/stepgate/stepgate/admin"
)

// workspaceJSON is the workspace policy as --json prints it, with the
// targets and factors that apply (the defaults filled in).
type workspaceJSON struct {
	MFARequired bool     `json:"mfa_required"`
	Targets     []string `json:"targets"`
	Factors     []string `json:"factors"`
}

func printWorkspace(e env, w *admin.Workspace, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, workspaceJSON{MFARequired: w.MFARequired, Targets: nonNil(w.Targets),
			Factors: nonNil(w.Factors)})
	}
	fmt.Fprintf(e.stdout, "mfa-required=%s targets=%s factors=%s\n", onOffString(w.MFARequired),
		strings.Join(w.Targets, ","), strings.Join(w.Factors, ","))
	return nil
}

type workspaceShowCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *workspaceShowCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, _ admin.Actor) error {
		w, err := svc.ShowWorkspace(ctx)
		if err != nil {
			return adminError(err)
		}
		return printWorkspace(e, w, c.JSON)
	})
}

type workspaceSetCmd struct {
	MFARequired onOff     `name:"mfa-required" placeholder:"on|off" help:"on: every member but the owner needs a second factor on the logins --targets names"`
	Targets     listValue `name:"targets" placeholder:"console,applications" help:"which logins mandatory MFA applies to: console (StepGate's own), applications, or both (the default)"`
	Factors     listValue `name:"factors" placeholder:"otp,email" help:"factors offered where an application enables none: otp,email (default both)"`
	Confirm     bool      `name:"confirm-remove-bindings" help:"allow a change after which nothing uses OTP to delete every authenticator binding"`
	JSON        bool      `name:"json" help:"print JSON"`
}

// run changes the policy through admin.SetWorkspace; a change after which
// nothing uses OTP follows the last-OTP-user rule, as client set-factors
// does.
func (c *workspaceSetCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.MFARequired.v == nil && c.Targets == nil && c.Factors == nil {
		return usagef("give --mfa-required=on|off, --targets and/or --factors")
	}
	in := admin.SetWorkspaceInput{MFARequired: c.MFARequired.v, Confirm: c.Confirm}
	if c.Targets != nil {
		l := []string(c.Targets)
		in.Targets = &l
	}
	if c.Factors != nil {
		l := []string(c.Factors)
		in.Factors = &l
	}
	return withAdmin(ctx, e, cfg, log, func(svc *admin.Service, actor admin.Actor) error {
		res, err := svc.SetWorkspace(ctx, actor, in)
		if err != nil {
			return adminError(err)
		}
		w := &res.Workspace
		if c.JSON {
			return printJSON(e.stdout, struct {
				workspaceJSON
				otpOutcomeJSON
			}{workspaceJSON{MFARequired: w.MFARequired, Targets: nonNil(w.Targets), Factors: nonNil(w.Factors)},
				toOTPOutcomeJSON(res.Keepers, res.Removed)})
		}
		if err := printWorkspace(e, w, false); err != nil {
			return err
		}
		printOTPOutcome(e.stdout, res.Keepers, res.Removed)
		return nil
	})
}
