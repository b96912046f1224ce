package mfa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/stepgate/stepgate/storage"
)

// WorkspaceSetting is the settings key the workspace policy is stored under.
const WorkspaceSetting = "workspace"

// ParseWorkspace reads a stored workspace policy; nil means the default (no
// mandatory MFA, the default factors).
func ParseWorkspace(raw []byte) (WorkspacePolicy, error) {
	var w WorkspacePolicy
	if raw == nil {
		return w, nil
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return w, fmt.Errorf("workspace policy: %w", err)
	}
	for _, f := range w.Factors {
		if f != FactorOTP && f != FactorEmail {
			return w, fmt.Errorf("workspace policy: unknown factor %q", f)
		}
	}
	for _, t := range w.Targets {
		if !slices.Contains(AllTargets, t) {
			return w, fmt.Errorf("workspace policy: unknown target %q", t)
		}
	}
	return w, nil
}

// EffectiveTargets are the kinds of login the mandatory MFA applies to:
// Targets, or all of them when it names none.
func (w WorkspacePolicy) EffectiveTargets() []string {
	if len(w.Targets) == 0 {
		return AllTargets
	}
	return w.Targets
}

// AppliesTo reports whether the policy's mandatory MFA (if on) covers a
// login for the console (console true) or for a client application.
func (w WorkspacePolicy) AppliesTo(console bool) bool {
	target := TargetApplications
	if console {
		target = TargetConsole
	}
	return slices.Contains(w.EffectiveTargets(), target)
}

// EffectiveFactors are the factors the workspace offers where an
// application enables none.
func (w WorkspacePolicy) EffectiveFactors() []string {
	if len(w.Factors) == 0 {
		return DefaultWorkspaceFactors
	}
	return w.Factors
}

// UsesOTP reports whether the workspace policy itself relies on OTP (for
// whichever targets it has).
func (w WorkspacePolicy) UsesOTP() bool {
	return w.MFARequired && slices.Contains(w.EffectiveFactors(), FactorOTP)
}

// LoadWorkspace reads the stored workspace policy; none stored is the
// default policy.
func LoadWorkspace(ctx context.Context, st storage.Settings) (WorkspacePolicy, error) {
	raw, err := st.GetSetting(ctx, WorkspaceSetting)
	if errors.Is(err, storage.ErrNotFound) {
		return WorkspacePolicy{}, nil
	}
	if err != nil {
		return WorkspacePolicy{}, err
	}
	return ParseWorkspace(raw)
}
