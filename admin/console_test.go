package admin

import (
	"errors"
	"slices"
	"testing"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func TestEnsureConsoleClient(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		s := serviceAt(st, &now)
		s.ConsoleClientID = ConsoleClient
		consoleEvents := func() []storage.AuditEvent {
			evs, err := st.ListAudit(ctx, storage.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return slices.DeleteFunc(evs, func(e storage.AuditEvent) bool { return e.ClientID != ConsoleClient })
		}
		audited := func() int { return len(consoleEvents()) }

		if err := s.EnsureConsoleClient(ctx, "https://login.example.com/"); err != nil {
			t.Fatal(err)
		}
		c, err := st.GetClient(ctx, ConsoleClient)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Public || c.SecretHash != "" || c.MFAMaxAge != ConsoleMFAMaxAge || c.FactorOTP || c.FactorEmail ||
			!slices.Equal(c.RedirectURIs, []string{"https://login.example.com/console/callback"}) ||
			!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://login.example.com/console/signed-out"}) {
			t.Errorf("console client = %+v", c)
		}
		if n := audited(); n != 1 {
			t.Errorf("%d audit rows after creating it, want 1", n)
		}

		// A restart with the same issuer changes nothing.
		if err := s.EnsureConsoleClient(ctx, "https://login.example.com"); err != nil {
			t.Fatal(err)
		}
		if n := audited(); n != 1 {
			t.Errorf("%d audit rows after an unchanged start, want 1", n)
		}

		// Another issuer, or a client changed behind StepGate's back, is
		// brought back.
		if _, err := st.UpdateClient(ctx, ConsoleClient, func(c *storage.Client) error {
			c.FactorOTP, c.MFAMaxAge = true, -1
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureConsoleClient(ctx, "https://id.example.org/auth"); err != nil {
			t.Fatal(err)
		}
		c, err = st.GetClient(ctx, ConsoleClient)
		if err != nil {
			t.Fatal(err)
		}
		if c.FactorOTP || c.MFAMaxAge != ConsoleMFAMaxAge ||
			!slices.Equal(c.RedirectURIs, []string{"https://id.example.org/auth/console/callback"}) {
			t.Errorf("after a new issuer: %+v", c)
		}
		if evs := consoleEvents(); len(evs) != 2 || evs[0].Type != mfa.EventClientUpdated || evs[0].Actor != "system" {
			t.Errorf("audit = %+v, want the update by system on top", evs)
		}
	})
}

func TestConsoleClientIsNotAnApplicationToChange(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		ctx := t.Context()
		now := testT0
		s := serviceAt(st, &now)
		s.ConsoleClientID = ConsoleClient
		if err := s.EnsureConsoleClient(ctx, "http://127.0.0.1:8080"); err != nil {
			t.Fatal(err)
		}
		actor := CLI("alice")
		_, errUpdate := s.UpdateClient(ctx, actor, UpdateClientInput{ID: ConsoleClient, Name: str("mine")})
		_, errFactors := s.SetFactors(ctx, actor, SetFactorsInput{ClientID: ConsoleClient, OTP: yes()})
		_, errRotate := s.RotateSecret(ctx, actor, ConsoleClient)
		_, errDelete := s.DeleteClient(ctx, actor, DeleteClientInput{ID: ConsoleClient})
		for name, err := range map[string]error{"update": errUpdate, "set factors": errFactors,
			"rotate": errRotate, "delete": errDelete} {
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Errorf("%s: %v, want a ConflictError", name, err)
			}
		}
		c, err := st.GetClient(ctx, ConsoleClient)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "StepGate console" || c.FactorOTP {
			t.Errorf("console client changed: %+v", c)
		}
	})
}
