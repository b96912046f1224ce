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
	// on turns the two users of OTP on; off are the two changes raced.
	type users struct {
		on, off [2]func(s *Service, a, b string) error
	}
	client := func(onOff bool, second bool) func(s *Service, a, b string) error {
		return func(s *Service, a, b string) error {
			id := a
			if second {
				id = b
			}
			v := onOff
			_, err := s.SetFactors(t.Context(), alice, SetFactorsInput{ClientID: id, OTP: &v})
			return err
		}
	}
	workspace := func(onOff bool) func(s *Service, a, b string) error {
		return func(s *Service, a, b string) error {
			v := onOff
			_, err := s.SetWorkspace(t.Context(), alice, SetWorkspaceInput{MFARequired: &v, Factors: list("otp")})
			return err
		}
	}
	for name, u := range map[string]users{
		"two applications": {on: [2]func(*Service, string, string) error{client(true, false), client(true, true)},
			off: [2]func(*Service, string, string) error{client(false, false), client(false, true)}},
		"an application and the workspace policy": {on: [2]func(*Service, string, string) error{client(true, false), workspace(true)},
			off: [2]func(*Service, string, string) error{client(false, false), workspace(false)}},
	} {
		t.Run(name, func(t *testing.T) {
			eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
				a, b := newApp(t, s, "A", false).Client.ID, newApp(t, s, "B", false).Client.ID
				bound := otpUsers(t, s, 1)
				for round := range 8 {
					for _, on := range u.on {
						if err := on(s, a, b); err != nil {
							t.Fatal(err)
						}
					}
					var wg sync.WaitGroup
					errs := make([]error, 2)
					for i, off := range u.off {
						wg.Go(func() { errs[i] = off(s, a, b) })
					}
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
