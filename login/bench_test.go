package login

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// BenchmarkCheckTOTP is the login's TOTP check without the database: the
// binding's secret opened with the master key (AES-256-GCM), the code
// verified, the step recorded (usedStore, in memory). It asserts nothing
// about speed; `go test -bench . -benchtime=100x ./login` runs it quickly.
func BenchmarkCheckTOTP(b *testing.B) {
	mk, err := keys.NewMasterKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	secret := []byte("12345678901234567890")
	sealed, err := mk.Seal(secret, TOTPAAD("u1"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2031, 5, 17, 10, 30, 15, 0, time.UTC)
	st := &usedStore{binding: storage.FactorBinding{ID: "b1", UserID: "u1", Kind: storage.FactorTOTP,
		SealedSecret: sealed, ConfirmedAt: now.Add(-time.Hour)}}
	h := &Handler{Sealer: mk, Now: func() time.Time { return now }}
	code := mfa.TOTPCode(secret, now)
	for b.Loop() {
		if reason, err := h.checkTOTP(b.Context(), st, "u1", code); err != nil || reason != "" {
			b.Fatalf("checkTOTP = %q, %v", reason, err)
		}
	}
}
