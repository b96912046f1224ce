package mfa

import (
	"encoding/json"
	"fmt"
	"slices"
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
	return w, nil
}

// EffectiveFactors are the factors the workspace offers where an
// application enables none.
func (w WorkspacePolicy) EffectiveFactors() []string {
	if len(w.Factors) == 0 {
		return DefaultWorkspaceFactors
	}
	return w.Factors
}

// UsesOTP reports whether the workspace policy itself relies on OTP.
func (w WorkspacePolicy) UsesOTP() bool {
	return w.MFARequired && slices.Contains(w.EffectiveFactors(), FactorOTP)
}
