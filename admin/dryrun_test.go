package admin

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// unchangedSince checks that nothing was written: no audit row beyond the
// n there were, and the bindings and backup codes as they were.
func unchangedSince(t *testing.T, s *Service, n int, users []string, bindings int64, codes int) {
	t.Helper()
	if rows := allAudit(t, s.Store); len(rows) != n {
		t.Errorf("%d audit rows, want %d: the dry run wrote %+v", len(rows), n, rows[:len(rows)-n])
	}
	if b, c := otpState(t, s.Store, users); b != bindings || c != codes {
		t.Errorf("%d bindings, %d codes; want %d and %d", b, c, bindings, codes)
	}
}

func TestADryRunOfSetFactorsSaysWhatItWouldDoAndChangesNothing(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		a, b := newApp(t, s, "A", true), newApp(t, s, "B", true)
		users := otpUsers(t, s, 2)
		n := len(allAudit(t, s.Store))

		t.Run("with another application on OTP it names the keeper", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Changed || !got.OTPTurnedOff || got.Client.Factors.OTP || got.Removed != 0 ||
				len(got.Keepers) != 1 || got.Keepers[0].ClientID != b.Client.ID {
				t.Errorf("result %+v", got)
			}
			if c, _ := s.ShowClient(ctx, a.Client.ID); !c.Factors.OTP {
				t.Errorf("the dry run turned A's OTP off")
			}
			unchangedSince(t, s, n, users, 2, 4)
		})
		if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: b.Client.ID, OTP: no()}); err != nil {
			t.Fatal(err)
		}
		n = len(allAudit(t, s.Store))

		t.Run("on the last user of OTP it is the confirmation the change would need", func(t *testing.T) {
			_, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), DryRun: true})
			var cr *ConfirmationRequired
			if !errors.As(err, &cr) || cr.Bindings != 2 || cr.Field != "otp" {
				t.Fatalf("error %v, want ConfirmationRequired for 2 bindings", err)
			}
			unchangedSince(t, s, n, users, 2, 4)
		})
		t.Run("confirmed, it counts the bindings it would remove and removes none", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), Confirm: true, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if got.Removed != 2 || !got.OTPTurnedOff || len(got.Keepers) != 0 {
				t.Errorf("result %+v", got)
			}
			if c, _ := s.ShowClient(ctx, a.Client.ID); !c.Factors.OTP {
				t.Errorf("the dry run turned A's OTP off")
			}
			unchangedSince(t, s, n, users, 2, 4)
		})
		t.Run("a change that leaves OTP alone is previewed as a change", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, Email: yes(),
				MFAMaxAge: dur(time.Hour), DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if !got.Changed || got.OTPTurnedOff || !got.Client.Factors.Email || got.Client.Factors.MFAMaxAge != time.Hour {
				t.Errorf("result %+v", got)
			}
			if c, _ := s.ShowClient(ctx, a.Client.ID); c.Factors.Email || c.Factors.MFAMaxAge != -1 {
				t.Errorf("the dry run changed A: %+v", c.Factors)
			}
			unchangedSince(t, s, n, users, 2, 4)
		})
		t.Run("a change that changes nothing says so", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: yes(), DryRun: true})
			if err != nil || got.Changed || got.OTPTurnedOff {
				t.Errorf("result %+v, %v", got, err)
			}
			got, err = s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: yes()})
			if err != nil || got.Changed {
				t.Errorf("result %+v, %v", got, err)
			}
		})
		t.Run("a real change reports that it turned OTP off", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), Confirm: true})
			if err != nil || !got.Changed || !got.OTPTurnedOff || got.Removed != 2 {
				t.Errorf("result %+v, %v", got, err)
			}
		})
	})
}

// seedWorkspaceUsers creates the owner and users in every state the
// workspace's counts tell apart.
func seedWorkspaceUsers(t *testing.T, s *Service) {
	t.Helper()
	ctx := t.Context()
	createUser(t, s, "owner@example.com", "owner")
	createUser(t, s, "admin@example.com", "admin") // unbound
	for _, email := range []string{"m1@example.com", "m2@example.com", "m3@example.com"} {
		createUser(t, s, email, "member") // unbound
	}
	bound := createUser(t, s, "bound@example.com", "member")
	boundAdmin := createUser(t, s, "bound-admin@example.com", "admin")
	for _, id := range []string{bound.ID, boundAdmin.ID} {
		now := s.now()
		if err := s.Store.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b-" + id, UserID: id, Kind: storage.FactorTOTP,
			SealedSecret: []byte("sealed"), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.ConfirmFactor(ctx, "b-"+id, now, 1); err != nil {
			t.Fatal(err)
		}
	}
	pending := createUser(t, s, "pending@example.com", "member") // a pending binding does not count
	if err := s.Store.PutPendingFactor(ctx, &storage.FactorBinding{ID: "p-" + pending.ID, UserID: pending.ID,
		Kind: storage.FactorTOTP, SealedSecret: []byte("sealed"), CreatedAt: s.now()}); err != nil {
		t.Fatal(err)
	}
	bypassed := createUser(t, s, "bypass@example.com", "member")
	disabled := createUser(t, s, "disabled@example.com", "member")
	for _, c := range []struct {
		id string
		fn func(u *storage.User)
	}{
		{bypassed.ID, func(u *storage.User) { u.MFABypass = true }},
		{disabled.ID, func(u *storage.User) { u.Disabled = true }},
	} {
		if _, err := s.Store.UpdateUser(ctx, c.id, func(u *storage.User) error { c.fn(u); return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorkspaceChangesCountWhoTheyAskAndADryRunChangesNothing(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		s := serviceAt(st, &now)
		ctx := context.Background()
		seedWorkspaceUsers(t, s)
		n := len(allAudit(t, s.Store))

		for _, c := range []struct {
			rule              string
			in                SetWorkspaceInput
			required, unbound int64
		}{
			// admin, m1-m3, pending unbound; bound, bound-admin bound; not the
			// owner, the bypassed or the disabled user.
			{"on every login: every user but the owner, bypassed and disabled ones", SetWorkspaceInput{MFARequired: yes()}, 7, 5},
			{"on the console alone: the admins", SetWorkspaceInput{MFARequired: yes(), Targets: list("console")}, 2, 1},
			{"on the applications", SetWorkspaceInput{MFARequired: yes(), Targets: list("applications")}, 7, 5},
			{"off: nobody", SetWorkspaceInput{MFARequired: no()}, 0, 0},
		} {
			t.Run(c.rule, func(t *testing.T) {
				in := c.in
				in.DryRun = true
				got, err := s.SetWorkspace(ctx, alice, in)
				if err != nil {
					t.Fatal(err)
				}
				if got.Required != c.required || got.Unbound != c.unbound {
					t.Errorf("required %d, unbound %d; want %d, %d", got.Required, got.Unbound, c.required, c.unbound)
				}
				if wantChanged := c.in.MFARequired != nil && *c.in.MFARequired; got.Changed != wantChanged {
					t.Errorf("changed %t, want %t", got.Changed, wantChanged)
				}
				if w, _ := s.ShowWorkspace(ctx); w.MFARequired {
					t.Errorf("the dry run turned mandatory MFA on")
				}
				if rows := allAudit(t, s.Store); len(rows) != n {
					t.Errorf("the dry run was audited: %d rows, want %d", len(rows), n)
				}
			})
		}

		t.Run("the real change counts the same and is made", func(t *testing.T) {
			got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes(), Factors: list("otp")})
			if err != nil || !got.Changed || got.Required != 7 || got.Unbound != 5 {
				t.Fatalf("result %+v, %v", got, err)
			}
			if w, _ := s.ShowWorkspace(ctx); !w.MFARequired {
				t.Errorf("not made")
			}
		})
		t.Run("a dry run of the change that stops the last use of OTP is its confirmation", func(t *testing.T) {
			n := len(allAudit(t, s.Store))
			_, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{Factors: list("email"), DryRun: true})
			var cr *ConfirmationRequired
			if !errors.As(err, &cr) || cr.Bindings != 2 || cr.Field != "factors" {
				t.Fatalf("error %v, want ConfirmationRequired for 2 bindings on factors", err)
			}
			got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{Factors: list("email"), DryRun: true, Confirm: true})
			// Removed counts the pending binding too: every binding goes.
			if err != nil || got.Removed != 3 || got.Unbound != 5 {
				t.Fatalf("confirmed dry run %+v, %v", got, err)
			}
			if b, err := s.Store.CountFactorsOfKind(ctx, storage.FactorTOTP); err != nil || b != 2 {
				t.Errorf("%d bindings after the dry run (%v), want 2", b, err)
			}
			if w, _ := mfa.LoadWorkspace(ctx, s.Store); !w.UsesOTP() {
				t.Errorf("the dry run changed the factors: %+v", w)
			}
			if rows := allAudit(t, s.Store); len(rows) != n {
				t.Errorf("the dry run was audited: %d rows, want %d", len(rows), n)
			}
		})
		t.Run("with an application on OTP it names the keeper", func(t *testing.T) {
			app := newApp(t, s, "Keeper", true)
			got, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: no(), DryRun: true})
			if err != nil || len(got.Keepers) != 1 || got.Keepers[0].ClientID != app.Client.ID || got.Removed != 0 {
				t.Fatalf("result %+v, %v", got, err)
			}
		})
	})
}
