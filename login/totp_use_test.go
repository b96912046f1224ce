package login

import (
	"context"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// usedStore hands out one confirmed binding and records how its step was
// used. Any other call panics on the nil Store.
type usedStore struct {
	storage.Store
	binding  storage.FactorBinding
	step     int64
	usedAt   time.Time
	stepOnly bool
}

func (s *usedStore) GetFactor(context.Context, string, string) (*storage.FactorBinding, error) {
	b := s.binding
	return &b, nil
}

func (s *usedStore) UseTOTPStepAt(_ context.Context, _ string, step int64, now time.Time) error {
	s.step, s.usedAt = step, now
	return nil
}

func (s *usedStore) UseTOTPStep(_ context.Context, _ string, step int64) error {
	s.step, s.stepOnly = step, true
	return nil
}

type clearSealer struct{}

func (clearSealer) Seal(p, _ []byte) ([]byte, error) { return p, nil }
func (clearSealer) Open(p, _ []byte) ([]byte, error) { return p, nil }

// "Show user" reports when an authenticator was last used: the login
// records it with the accepted step, in the same statement.
func TestAcceptedTOTPCodeRecordsWhenTheBindingWasUsed(t *testing.T) {
	now := time.Date(2031, 5, 17, 10, 30, 15, 0, time.UTC)
	secret := []byte("12345678901234567890")
	st := &usedStore{binding: storage.FactorBinding{ID: "b1", UserID: "u1", Kind: storage.FactorTOTP,
		SealedSecret: secret, ConfirmedAt: now.Add(-time.Hour)}}
	h := &Handler{Sealer: clearSealer{}, Now: func() time.Time { return now }}
	reason, err := h.checkTOTP(t.Context(), st, "u1", mfa.TOTPCode(secret, now))
	if err != nil || reason != "" {
		t.Fatalf("checkTOTP = %q, %v; want the code accepted", reason, err)
	}
	if st.stepOnly || st.step != mfa.TOTPStep(now) || !st.usedAt.Equal(now) {
		t.Errorf("step %d used at %v (step-only call %v); want step %d at %v", st.step, st.usedAt, st.stepOnly,
			mfa.TOTPStep(now), now)
	}
}
