package admin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// otpUsers creates n users, each with a confirmed authenticator binding
// and two backup codes, and returns their IDs.
func otpUsers(t *testing.T, s *Service, n int) []string {
	t.Helper()
	ctx, now := t.Context(), s.now()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("u%d", i)
		for step, err := range []error{
			s.Store.CreateUser(ctx, &storage.User{ID: id, Email: id + "@example.com", Name: id, Role: storage.RoleMember,
				PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: now, UpdatedAt: now}),
			s.Store.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b-" + id, UserID: id, Kind: storage.FactorTOTP,
				SealedSecret: []byte("sealed"), CreatedAt: now}),
			s.Store.ConfirmFactor(ctx, "b-"+id, now, 1),
			s.Store.ReplaceBackupCodes(ctx, id, []string{"h1-" + id, "h2-" + id}, now),
		} {
			if err != nil {
				t.Fatalf("seed %s, step %d: %v", id, step, err)
			}
		}
		ids = append(ids, id)
	}
	return ids
}

// otpState is how many authenticator bindings there are and how many
// unused backup codes the users have.
func otpState(t *testing.T, st storage.Store, users []string) (bindings int64, codes int) {
	t.Helper()
	bindings, err := st.CountFactorsOfKind(t.Context(), storage.FactorTOTP)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		n, err := st.CountUnusedBackupCodes(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		codes += n
	}
	return bindings, codes
}

func TestSetFactors(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, clock *clientsClock) {
		ctx := t.Context()
		app := newApp(t, s, "App", false)
		clock.now = clock.now.Add(time.Minute)
		got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: app.Client.ID, OTP: yes(), Email: yes(), MFAMaxAge: dur(15 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if got.Client.Factors != (ClientFactors{OTP: true, Email: true, MFAMaxAge: 15 * time.Minute}) || !got.Client.UpdatedAt.Equal(clock.now) {
			t.Errorf("factors %+v", got.Client)
		}
		rows := clientsAudit(t, s.Store, mfa.EventClientFactorsChanged)
		if len(rows) != 1 || rows[0].Actor != "cli:alice" || rows[0].ClientID != app.Client.ID ||
			rows[0].Detail != "otp=on email=on mfa_max_age=15m0s" {
			t.Errorf("audit %+v", rows)
		}
		t.Run("the period is 0, -1 or whole seconds", func(t *testing.T) {
			for d, ok := range map[time.Duration]bool{0: true, -1: true, -time.Hour: true, 8 * time.Hour: true, time.Millisecond: false} {
				got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: app.Client.ID, MFAMaxAge: dur(d)})
				if !ok {
					if f := fieldsOf(t, err); len(f) != 1 || f[0] != "mfa_max_age" {
						t.Errorf("%v: fields %v", d, f)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%v: %v", d, err)
				}
				if want := max(d, -1); got.Client.Factors.MFAMaxAge != want {
					t.Errorf("%v stored as %v, want %v", d, got.Client.Factors.MFAMaxAge, want)
				}
			}
		})
		t.Run("a change that changes nothing writes nothing", func(t *testing.T) {
			if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: app.Client.ID, MFAMaxAge: dur(-time.Minute)}); err != nil {
				t.Fatal(err)
			}
			before := len(clientsAudit(t, s.Store, mfa.EventClientFactorsChanged))
			if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: app.Client.ID, OTP: yes(), MFAMaxAge: dur(-1)}); err != nil {
				t.Fatal(err)
			}
			if after := len(clientsAudit(t, s.Store, mfa.EventClientFactorsChanged)); after != before {
				t.Errorf("%d factor rows, was %d", after, before)
			}
		})
		t.Run("an unknown client is not found", func(t *testing.T) {
			_, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: "nope", OTP: no()})
			var nf *NotFoundError
			if !errors.As(err, &nf) || nf.What != "client" {
				t.Errorf("unknown client: %v", err)
			}
		})
	})
}

func TestTurningOTPOff(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		t.Run("while another application uses OTP the bindings stay and it is named", func(t *testing.T) {
			a, b := newApp(t, s, "A", true), newApp(t, s, "B", true)
			users := otpUsers(t, s, 2)
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no()})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Keepers) != 1 || got.Keepers[0].ClientID != b.Client.ID || got.Keepers[0].String() != fmt.Sprintf(`"B" (%s)`, b.Client.ID) ||
				got.Removed != 0 || got.Client.Factors.OTP {
				t.Errorf("result %+v", got)
			}
			if n, codes := otpState(t, s.Store, users); n != 2 || codes != 4 {
				t.Errorf("%d bindings, %d codes left; want all kept", n, codes)
			}
		})
	})
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		t.Run("while the workspace policy uses OTP the bindings stay and it is named", func(t *testing.T) {
			a := newApp(t, s, "A", true)
			users := otpUsers(t, s, 1)
			if _, err := s.SetWorkspace(ctx, alice, SetWorkspaceInput{MFARequired: yes(), Factors: list("otp")}); err != nil {
				t.Fatal(err)
			}
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no()})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Keepers) != 1 || !got.Keepers[0].Workspace || got.Keepers[0].String() != "the workspace MFA policy" {
				t.Errorf("keepers %+v", got.Keepers)
			}
			if n, codes := otpState(t, s.Store, users); n != 1 || codes != 2 {
				t.Errorf("%d bindings, %d codes left; want all kept", n, codes)
			}
		})
	})
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		a := newApp(t, s, "A", true)
		users := otpUsers(t, s, 2)
		t.Run("on the last user of OTP without confirmation it is a preview and nothing changes", func(t *testing.T) {
			_, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), Email: yes()})
			var cr *ConfirmationRequired
			if !errors.As(err, &cr) || cr.Bindings != 2 || cr.Field != "otp" || !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("error %v, want ConfirmationRequired for 2 bindings on otp", err)
			}
			if !strings.Contains(err.Error(), "2 user(s)") {
				t.Errorf("message %q does not give the count", err)
			}
			got, _ := s.ShowClient(ctx, a.Client.ID)
			if !got.Factors.OTP || got.Factors.Email {
				t.Errorf("the refused change was made: %+v", got.Factors)
			}
			if n, codes := otpState(t, s.Store, users); n != 2 || codes != 4 {
				t.Errorf("%d bindings, %d codes left; want all kept", n, codes)
			}
			if rows := clientsAudit(t, s.Store, mfa.EventClientFactorsChanged); len(rows) != 0 {
				t.Errorf("the preview was audited: %+v", rows)
			}
		})
		t.Run("with confirmation every binding and backup code goes, audited", func(t *testing.T) {
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no(), Email: yes(), Confirm: true})
			if err != nil {
				t.Fatal(err)
			}
			if got.Removed != 2 || len(got.Keepers) != 0 || got.Client.Factors.OTP || !got.Client.Factors.Email {
				t.Errorf("result %+v", got)
			}
			if n, codes := otpState(t, s.Store, users); n != 0 || codes != 0 {
				t.Errorf("%d bindings, %d codes left; want none", n, codes)
			}
			changed := clientsAudit(t, s.Store, mfa.EventClientFactorsChanged)
			removed := clientsAudit(t, s.Store, mfa.EventOTPRemoved)
			if len(changed) != 1 || len(removed) != 1 || removed[0].Actor != "cli:alice" || removed[0].ClientID != a.Client.ID ||
				!strings.Contains(removed[0].Detail, "2 binding(s)") {
				t.Errorf("audit: changes %+v, removals %+v", changed, removed)
			}
		})
		t.Run("with no binding left turning OTP off needs no confirmation", func(t *testing.T) {
			if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: yes()}); err != nil {
				t.Fatal(err)
			}
			got, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: a.Client.ID, OTP: no()})
			if err != nil || got.Removed != 0 || got.Client.Factors.OTP {
				t.Errorf("result %+v %v", got, err)
			}
		})
	})
}

// Deleting an application stops it using OTP, as turning its OTP off does:
// the bindings stay while another application uses OTP, and go with the
// last one only on an explicit confirmation.
func TestDeletingTheLastOTPApplicationFollowsTheRule(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		a, b := newApp(t, s, "A", true), newApp(t, s, "B", true)
		users := otpUsers(t, s, 2)

		res, err := s.DeleteClient(ctx, alice, DeleteClientInput{ID: a.Client.ID})
		if err != nil || res.Removed != 0 || len(res.Keepers) != 1 || res.Keepers[0].ClientID != b.Client.ID {
			t.Fatalf("deleting A while B uses OTP: %+v, %v", res, err)
		}
		if n, codes := otpState(t, s.Store, users); n != 2 || codes != 4 {
			t.Fatalf("after deleting A: %d bindings, %d codes; want all kept", n, codes)
		}

		var confirm *ConfirmationRequired
		if _, err := s.DeleteClient(ctx, alice, DeleteClientInput{ID: b.Client.ID}); !errors.As(err, &confirm) || confirm.Bindings != 2 {
			t.Fatalf("deleting the last OTP application without confirmation: %v", err)
		}
		if _, err := s.ShowClient(ctx, b.Client.ID); err != nil {
			t.Fatalf("the refused delete deleted B: %v", err)
		}
		if rows, _ := s.Store.ListAudit(ctx, storage.AuditFilter{Type: mfa.EventClientDeleted}); len(rows) != 1 {
			t.Fatalf("%d delete rows, want only A's", len(rows))
		}

		res, err = s.DeleteClient(ctx, alice, DeleteClientInput{ID: b.Client.ID, Confirm: true})
		if err != nil || res.Removed != 2 {
			t.Fatalf("confirmed delete: %+v, %v", res, err)
		}
		if n, codes := otpState(t, s.Store, users); n != 0 || codes != 0 {
			t.Fatalf("after the confirmed delete: %d bindings, %d codes; want none", n, codes)
		}
		if rows, _ := s.Store.ListAudit(ctx, storage.AuditFilter{Type: mfa.EventOTPRemoved}); len(rows) != 1 || rows[0].Actor != "cli:alice" {
			t.Fatalf("removal audit %+v", rows)
		}
	})
}
