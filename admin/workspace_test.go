package admin

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func TestWorkspacePolicy(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		t.Run("with nothing stored it is off, for both targets, with both factors", func(t *testing.T) {
			w, err := s.ShowWorkspace(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if w.MFARequired || !slices.Equal(w.Targets, []string{"console", "applications"}) ||
				!slices.Equal(w.Factors, []string{"otp", "email"}) {
				t.Errorf("default %+v", w)
			}
		})
		t.Run("mandatory MFA for the console only, stored where login reads it, audited", func(t *testing.T) {
			got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes(), Targets: list("console", "console")})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Workspace.MFARequired || !slices.Equal(got.Workspace.Targets, []string{"console"}) {
				t.Errorf("result %+v", got.Workspace)
			}
			w, err := mfa.LoadWorkspace(ctx, s.Store)
			if err != nil {
				t.Fatal(err)
			}
			if !w.MFARequired || !w.AppliesTo(true) || w.AppliesTo(false) {
				t.Errorf("stored %+v: want MFA on the console only", w)
			}
			rows := clientsAudit(t, s.Store, mfa.EventWorkspacePolicyChanged)
			if len(rows) != 1 || rows[0].Actor != "cli:alice" {
				t.Errorf("audit %+v", rows)
			}
		})
		t.Run("a change keeps the fields it does not name", func(t *testing.T) {
			got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{Factors: list("email")})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Workspace.MFARequired || !slices.Equal(got.Workspace.Targets, []string{"console"}) ||
				!slices.Equal(got.Workspace.Factors, []string{"email"}) {
				t.Errorf("result %+v", got.Workspace)
			}
		})
		t.Run("a change that changes nothing writes nothing", func(t *testing.T) {
			if _, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes(), Factors: list("email")}); err != nil {
				t.Fatal(err)
			}
			if rows := clientsAudit(t, s.Store, mfa.EventWorkspacePolicyChanged); len(rows) != 2 {
				t.Errorf("%d policy rows, want 2", len(rows))
			}
		})
		t.Run("targets and factors are checked", func(t *testing.T) {
			for _, c := range []struct {
				in    SetWorkspaceInput
				field string
			}{
				{SetWorkspaceInput{Targets: list()}, "targets"},
				{SetWorkspaceInput{Targets: list("api")}, "targets"},
				{SetWorkspaceInput{Factors: list()}, "factors"},
				{SetWorkspaceInput{Factors: list("sms")}, "factors"},
			} {
				_, err := s.SetWorkspace(ctx, alice, c.in)
				if f := fieldsOf(t, err); len(f) != 1 || f[0] != c.field {
					t.Errorf("%+v: fields %v, want %s", c.in, f, c.field)
				}
			}
			w, _ := s.ShowWorkspace(ctx)
			if !slices.Equal(w.Targets, []string{"console"}) || !slices.Equal(w.Factors, []string{"email"}) {
				t.Errorf("a refused change was made: %+v", w)
			}
		})
	})
}

// A policy stored before targets existed applied to every login; changing
// another field keeps that.
func TestWorkspaceStoredBeforeTargets(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		if err := s.Store.PutSetting(ctx, mfa.WorkspaceSetting, []byte(`{"mfa_required":true,"factors":["otp"]}`), s.now()); err != nil {
			t.Fatal(err)
		}
		w, err := s.ShowWorkspace(ctx)
		if err != nil || !w.MFARequired || !slices.Equal(w.Targets, mfa.AllTargets) {
			t.Fatalf("old policy shown as %+v (%v)", w, err)
		}
		if _, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{Factors: list("otp", "email")}); err != nil {
			t.Fatal(err)
		}
		raw, err := s.Store.GetSetting(ctx, mfa.WorkspaceSetting)
		if err != nil {
			t.Fatal(err)
		}
		var stored map[string]any
		if err := json.Unmarshal(raw, &stored); err != nil {
			t.Fatal(err)
		}
		if _, ok := stored["targets"]; ok {
			t.Errorf("stored %s: targets written though not changed", raw)
		}
		p, _ := mfa.ParseWorkspace(raw)
		if !p.AppliesTo(true) || !p.AppliesTo(false) || !p.MFARequired {
			t.Errorf("stored %s no longer applies to every login", raw)
		}
	})
}

// The last-OTP-user rule, from the workspace's side: the workspace stops
// using OTP (mandatory MFA off, or OTP dropped from its factors) while no
// application uses it.
func TestWorkspaceStopsUsingOTP(t *testing.T) {
	for _, c := range []struct {
		name  string
		in    SetWorkspaceInput
		field string
	}{
		{"mandatory MFA turned off", SetWorkspaceInput{MFARequired: no()}, "mfa_required"},
		{"OTP dropped from the factors", SetWorkspaceInput{Factors: list("email")}, "factors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
				ctx := t.Context()
				if _, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes(), Factors: list("otp", "email")}); err != nil {
					t.Fatal(err)
				}
				users := otpUsers(t, s, 3)
				other := newApp(t, s, "Other", false)

				_, err := s.SetWorkspace(ctx, alice, c.in)
				var cr *ConfirmationRequired
				if !errors.As(err, &cr) || cr.Bindings != 3 || cr.Field != c.field || !errors.Is(err, storage.ErrConflict) {
					t.Fatalf("without confirmation: %v, want ConfirmationRequired for 3 bindings on %s", err, c.field)
				}
				if w, _ := s.ShowWorkspace(ctx); !w.MFARequired || !slices.Contains(w.Factors, "otp") {
					t.Errorf("the refused change was made: %+v", w)
				}
				if n, codes := otpState(t, s.Store, users); n != 3 || codes != 6 {
					t.Errorf("%d bindings, %d codes; want all kept", n, codes)
				}

				// An application using OTP keeps the bindings, and is named.
				if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: other.Client.ID, OTP: yes()}); err != nil {
					t.Fatal(err)
				}
				got, err := s.SetWorkspace(ctx, alice, c.in)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Keepers) != 1 || got.Keepers[0].ClientID != other.Client.ID || got.Removed != 0 {
					t.Errorf("result %+v, want the bindings kept for Other", got)
				}
				if n, _ := otpState(t, s.Store, users); n != 3 {
					t.Errorf("%d bindings, want 3 kept", n)
				}
			})
		})
	}
	eachClientsEngine(t, func(t *testing.T, s *Service, clock *clientsClock) {
		ctx := t.Context()
		if _, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes()}); err != nil {
			t.Fatal(err)
		}
		users := otpUsers(t, s, 2)
		clock.now = clock.now.Add(time.Hour)
		got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: no(), Confirm: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.Removed != 2 || got.Workspace.MFARequired {
			t.Errorf("confirmed: %+v", got)
		}
		if n, codes := otpState(t, s.Store, users); n != 0 || codes != 0 {
			t.Errorf("%d bindings, %d codes left; want none", n, codes)
		}
		removed := clientsAudit(t, s.Store, mfa.EventOTPRemoved)
		if len(removed) != 1 || removed[0].Actor != "cli:alice" || !removed[0].At.Equal(clock.now) {
			t.Errorf("removal audit %+v", removed)
		}
	})
}
