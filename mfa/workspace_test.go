package mfa

import (
	"slices"
	"testing"
)

func TestWorkspaceTargets(t *testing.T) {
	for _, c := range []struct {
		name         string
		raw          string
		console, app bool
		wantErr      bool
	}{
		{name: "no policy stored applies to both (when on)", raw: "", console: true, app: true},
		{name: "a policy stored before targets existed applies to both",
			raw: `{"mfa_required":true,"factors":["otp"]}`, console: true, app: true},
		{name: "console only", raw: `{"mfa_required":true,"targets":["console"]}`, console: true},
		{name: "applications only", raw: `{"mfa_required":true,"targets":["applications"]}`, app: true},
		{name: "both", raw: `{"mfa_required":true,"targets":["console","applications"]}`, console: true, app: true},
		{name: "an unknown target is refused", raw: `{"mfa_required":true,"targets":["api"]}`, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var raw []byte
			if c.raw != "" {
				raw = []byte(c.raw)
			}
			w, err := ParseWorkspace(raw)
			if (err != nil) != c.wantErr {
				t.Fatalf("ParseWorkspace(%s) error %v, want error %v", c.raw, err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if w.AppliesTo(true) != c.console || w.AppliesTo(false) != c.app {
				t.Errorf("applies to console %v, applications %v; want %v, %v", w.AppliesTo(true), w.AppliesTo(false), c.console, c.app)
			}
		})
	}
	if got := (WorkspacePolicy{}).EffectiveTargets(); !slices.Equal(got, []string{TargetConsole, TargetApplications}) {
		t.Errorf("default targets %v", got)
	}
}
