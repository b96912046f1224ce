package e2e_test

import (
	"sync"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/storage"
)

// Turning OTP off on the last two applications using it, at the same time:
// each command asks "does another application still use OTP?" and acts on
// the answer, so exactly one of them must find it is the last and refuse
// without --confirm-remove-bindings. Were both to see the other still on,
// both would succeed and the bindings would stay with nothing using OTP.
func TestOTPOffOnTheLastTwoApplicationsAtOnce(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv := e2e.Start(t, e2e.Options{Engine: eng})
			userID := srv.CreateUser(testEmail, testPassword)
			st := srv.Store()
			now := srv.Clock.Now()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(st.PutPendingFactor(t.Context(), &storage.FactorBinding{ID: "b1", UserID: userID,
				Kind: storage.FactorTOTP, SealedSecret: []byte("sealed"), CreatedAt: now}))
			must(st.ConfirmFactor(t.Context(), "b1", now, 1))
			a := srv.CreateClient("--name", "A", "--redirect-uri", redirectURI).ClientID
			b := srv.CreateClient("--name", "B", "--redirect-uri", redirectURI).ClientID

			for round := range 8 {
				srv.CLI("client", "set-factors", a, "--otp=on")
				srv.CLI("client", "set-factors", b, "--otp=on")
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i, id := range []string{a, b} {
					wg.Go(func() { codes[i] = srv.RunCLI("", "client", "set-factors", id, "--otp=off").Code })
				}
				wg.Wait()
				if (codes[0] == 0) == (codes[1] == 0) {
					t.Fatalf("round %d: exit codes %v, want exactly one refusal", round, codes)
				}
				if n, err := st.CountFactorsOfKind(t.Context(), storage.FactorTOTP); err != nil || n != 1 {
					t.Fatalf("round %d: %d bindings (%v), want the one kept", round, n, err)
				}
			}
		})
	}
}
