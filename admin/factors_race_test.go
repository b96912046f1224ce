package admin

import (
	"errors"
	"sync"
	"testing"
)

// Two changes that each stop a user of OTP, at the same time: each asks
// "does anything else still use OTP?" and acts on the answer, so exactly
// one of them must find it is the last and ask for confirmation. Were both
// to see the other still on, both would succeed and the bindings would
// stay with nothing using OTP. The factor-policy lock makes them take
// turns; without it PostgreSQL lets both decide on the state before the
// other's change.
func TestOTPOffOnTheLastTwoUsersAtOnce(t *testing.T) {
	// A change of one of the two users of OTP: client A, client B, or the
	// workspace policy.
	type change func(s *Service, a, b string) error
	client := func(second, on bool) change {
		return func(s *Service, a, b string) error {
			id := a
			if second {
				id = b
			}
			_, err := s.SetFactors(t.Context(), alice, SetFactorsInput{ClientID: id, OTP: &on})
			return err
		}
	}
	workspace := func(on bool) change {
		return func(s *Service, _, _ string) error {
			_, err := s.SetWorkspace(t.Context(), alice, SetWorkspaceInput{MFARequired: &on, Factors: list("otp")})
			return err
		}
	}
	// on turns both users on; off are the two changes raced.
	for name, u := range map[string]struct{ on, off [2]change }{
		"two applications": {on: [2]change{client(false, true), client(true, true)},
			off: [2]change{client(false, false), client(true, false)}},
		"an application and the workspace policy": {on: [2]change{client(false, true), workspace(true)},
			off: [2]change{client(false, false), workspace(false)}},
	} {
		t.Run(name, func(t *testing.T) {
			eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
				a, b := newApp(t, s, "A", false).Client.ID, newApp(t, s, "B", false).Client.ID
				bound := otpUsers(t, s, 1)
				for round := range 20 {
					for _, on := range u.on {
						if err := on(s, a, b); err != nil {
							t.Fatal(err)
						}
					}
					var wg sync.WaitGroup
					start := make(chan struct{})
					errs := make([]error, 2)
					for i, off := range u.off {
						wg.Go(func() { <-start; errs[i] = off(s, a, b) })
					}
					close(start)
					wg.Wait()
					asked := 0
					for _, err := range errs {
						var cr *ConfirmationRequired
						switch {
						case errors.As(err, &cr):
							asked++
						case err != nil:
							t.Fatalf("round %d: %v", round, err)
						}
					}
					if asked != 1 {
						t.Fatalf("round %d: %d of the two changes asked for confirmation (%v), want exactly one", round, asked, errs)
					}
					if n, _ := otpState(t, s.Store, bound); n != 1 {
						t.Fatalf("round %d: %d bindings, want the one kept", round, n)
					}
				}
			})
		})
	}
}
