package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// Workspace is the workspace policy as a form shows it: targets and
// factors as they apply (defaults filled in).
type Workspace struct {
	// MFARequired: every member but the owner needs a second factor on the
	// logins Targets names.
	MFARequired bool
	// Targets are mfa.TargetConsole and/or mfa.TargetApplications.
	Targets []string
	// Factors are offered where an application enables none itself.
	Factors []string
}

func workspaceView(w mfa.WorkspacePolicy) Workspace {
	return Workspace{MFARequired: w.MFARequired, Targets: slices.Clone(w.EffectiveTargets()),
		Factors: slices.Clone(w.EffectiveFactors())}
}

// ShowWorkspace returns the workspace policy.
func (s *Service) ShowWorkspace(ctx context.Context) (*Workspace, error) {
	w, err := mfa.LoadWorkspace(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	v := workspaceView(w)
	return &v, nil
}

// SetWorkspaceInput changes the workspace policy; nil fields stay as they
// are.
type SetWorkspaceInput struct {
	MFARequired *bool
	// Targets: at least one of mfa.AllTargets.
	Targets *[]string
	// Factors: at least one of otp and email.
	Factors *[]string
	// Confirm allows a change after which nothing uses OTP to remove every
	// authenticator binding and backup code (see ConfirmationRequired).
	Confirm bool
	// DryRun makes the change, its decision and the counts in the
	// transaction, then rolls it back (see SetFactorsInput.DryRun): the
	// effect shown before the change is made.
	DryRun bool
}

// WorkspaceResult is the policy after a change, who it asks for a second
// factor, and what a change that stopped the workspace using OTP did to the
// authenticator bindings. After a DryRun it is what the change would do.
type WorkspaceResult struct {
	Workspace Workspace
	// Changed is false when the policy was already as asked (nothing was
	// written).
	Changed bool
	// Required is how many users the policy's mandatory MFA applies to
	// after the change: every user but the owner, the disabled and the
	// bypassed ones; only admins when it targets the console alone (members
	// do not sign in to it). 0 when MFA is not mandatory.
	Required int64
	// Unbound is how many of them have no authenticator bound: where the
	// policy offers OTP they bind one at their next login.
	Unbound int64
	// Keepers are the clients still using OTP when the workspace stopped:
	// the bindings stay for them.
	Keepers []OTPKeeper
	// Removed is how many authenticator bindings were removed, with every
	// user's backup codes, because nothing uses OTP any more.
	Removed int64
}

// SetWorkspace changes the workspace policy. A change after which the
// workspace no longer uses OTP (mandatory MFA off, or OTP no longer among
// its factors) while no client uses it follows the last-OTP-user rule, as
// SetFactors does. The policy is read, decided on and written in one
// transaction holding the factor-policy lock, so a concurrent change of
// another field or of a client's factors is neither undone nor decided on
// stale state.
func (s *Service) SetWorkspace(ctx context.Context, actor Actor, in SetWorkspaceInput) (*WorkspaceResult, error) {
	var f fields
	var targets, factors []string
	if in.Targets != nil {
		targets = checkChoice(&f, "targets", *in.Targets, mfa.AllTargets,
			"choose the console, client applications, or both")
	}
	if in.Factors != nil {
		factors = checkChoice(&f, "factors", *in.Factors, []string{mfa.FactorOTP, mfa.FactorEmail},
			"choose otp, email, or both")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	res := &WorkspaceResult{}
	err := s.tx(ctx, func(tx storage.Store) error {
		if err := tx.Serialize(ctx, factorPolicyLock); err != nil {
			return err
		}
		before, err := mfa.LoadWorkspace(ctx, tx)
		if err != nil {
			return err
		}
		after := before
		after.Factors, after.Targets = slices.Clone(before.Factors), slices.Clone(before.Targets)
		if in.MFARequired != nil {
			after.MFARequired = *in.MFARequired
		}
		if in.Targets != nil {
			after.Targets = targets
		}
		if in.Factors != nil {
			after.Factors = factors
		}
		res.Workspace = workspaceView(after)
		if res.Required, res.Unbound, err = requiredUsers(ctx, tx, after); err != nil {
			return err
		}
		if was := workspaceView(before); was.MFARequired == res.Workspace.MFARequired &&
			slices.Equal(was.Targets, res.Workspace.Targets) && slices.Equal(was.Factors, res.Workspace.Factors) {
			return errUnchanged
		}
		res.Changed = true
		raw, err := json.Marshal(after)
		if err != nil {
			return err
		}
		if _, err := mfa.ParseWorkspace(raw); err != nil {
			return err // checked above; a policy this code cannot read back is never written
		}
		if err := tx.PutSetting(ctx, mfa.WorkspaceSetting, raw, s.now()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, storage.AuditEvent{Type: mfa.EventWorkspacePolicyChanged,
			Detail: string(raw)}); err != nil {
			return err
		}
		if before.UsesOTP() && !after.UsesOTP() {
			field := "mfa_required"
			if after.MFARequired {
				field = "factors"
			}
			res.Keepers, res.Removed, err = s.otpTurnedOff(ctx, tx, actor, "", field, in.Confirm,
				"the workspace policy stopped using OTP and no application uses it")
		}
		if err == nil && in.DryRun {
			return errDryRun
		}
		return err
	})
	if errors.Is(err, errUnchanged) || errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// requiredUsers counts, in tx, the users w's mandatory MFA applies to and
// those of them without an authenticator (see WorkspaceResult).
func requiredUsers(ctx context.Context, tx storage.Store, w mfa.WorkspacePolicy) (required, unbound int64, err error) {
	if !w.MFARequired {
		return 0, 0, nil
	}
	roles := []storage.Role{storage.RoleAdmin}
	if w.AppliesTo(false) {
		roles = append(roles, storage.RoleMember)
	}
	no := false
	for _, role := range roles {
		q := storage.UserQuery{Role: role, Bypass: &no, Disabled: &no}
		n, err := tx.CountUsers(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		q.TOTPBound = &no
		m, err := tx.CountUsers(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		required, unbound = required+n, unbound+m
	}
	return required, unbound, nil
}

// checkChoice keeps the given values in the order given, once each; an
// empty choice or a value not among allowed is a field error.
func checkChoice(f *fields, field string, given, allowed []string, empty string) []string {
	var out []string
	for _, v := range given {
		if !slices.Contains(allowed, v) {
			f.add(field, fmt.Sprintf("unknown value %q; %s", v, empty))
			return nil
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		f.add(field, empty)
	}
	return out
}
