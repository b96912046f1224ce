package cli

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// Turning OTP off on the last two applications using it, at the same time:
// each command asks "does another application still use OTP?" and acts on
// the answer, so exactly one of them must find it is the last and refuse
// without --confirm-remove-bindings. Were both to see the other still on,
// both would succeed and the bindings would stay with nothing using OTP.
func TestOTPOffOnTheLastTwoApplicationsAtOnce(t *testing.T) {
	for name, database := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dbURL := database(t, dir)
			srv := startServer(t, dbURL, dir)
			userID := srv.createUser(testEmail, testPassword)
			st, err := sqlstore.Open(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			now := time.Now()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(st.PutPendingFactor(t.Context(), &storage.FactorBinding{ID: "b1", UserID: userID,
				Kind: storage.FactorTOTP, SealedSecret: []byte("sealed"), CreatedAt: now}))
			must(st.ConfirmFactor(t.Context(), "b1", now, 1))
			a := srv.createClient("--name", "A", "--redirect-uri", redirectURI).ClientID
			b := srv.createClient("--name", "B", "--redirect-uri", redirectURI).ClientID

			for round := range 8 {
				srv.cli("", "client", "set-factors", a, "--otp=on")
				srv.cli("", "client", "set-factors", b, "--otp=on")
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i, id := range []string{a, b} {
					wg.Go(func() { _, codes[i] = srv.cliCode("", "client", "set-factors", id, "--otp=off") })
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
