package bench

import (
	"errors"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/mfa"
)

func testUsers(n int) []seedUser {
	users := make([]seedUser, n)
	for i := range users {
		users[i] = seedUser{email: "u@example.com", secret: []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}}
	}
	return users
}

// useOne is what a full login does with the pool: take a user, use their
// code, give them back.
func useOne(t *testing.T, p *userPool) (int, error) {
	t.Helper()
	i, err := p.take()
	if err != nil {
		return 0, err
	}
	p.code(i)
	p.release(i)
	return i, nil
}

func TestUserPool(t *testing.T) {
	t.Run("each user logs in once per TOTP step, and the next step frees them all", func(t *testing.T) {
		c := &clock.Fake{}
		p := newUserPool(testUsers(3), c.Now)
		seen := map[int]bool{}
		for range 3 {
			i, err := useOne(t, p)
			if err != nil {
				t.Fatal(err)
			}
			if seen[i] {
				t.Fatalf("user %d handed out twice in one step", i)
			}
			seen[i] = true
		}
		if _, err := useOne(t, p); !errors.Is(err, errExhausted) {
			t.Fatalf("a fourth login in the step: %v, want errExhausted", err)
		}
		c.Advance(mfa.TOTPPeriod)
		for range 3 {
			if _, err := useOne(t, p); err != nil {
				t.Fatalf("after a step: %v", err)
			}
		}
	})

	t.Run("a user whose login is in progress is not handed out again, even in a new step", func(t *testing.T) {
		c := &clock.Fake{}
		p := newUserPool(testUsers(1), c.Now)
		i, err := p.take()
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(mfa.TOTPPeriod)
		if _, err := p.take(); !errors.Is(err, errExhausted) {
			t.Fatalf("took a user in use: %v", err)
		}
		p.code(i)
		p.release(i)
		if _, err := p.take(); !errors.Is(err, errExhausted) {
			t.Fatalf("the step of the code just used was handed out again: %v", err)
		}
	})

	t.Run("a code made after the step turned holds the user for that step", func(t *testing.T) {
		c := &clock.Fake{}
		p := newUserPool(testUsers(1), c.Now)
		i, _ := p.take()
		c.Advance(mfa.TOTPPeriod) // the step turns between take and the TOTP page
		p.code(i)
		p.release(i)
		if _, err := p.take(); !errors.Is(err, errExhausted) {
			t.Fatalf("user handed out in the step their code was for: %v", err)
		}
	})

	t.Run("codes are those the server's check accepts at that time", func(t *testing.T) {
		c := &clock.Fake{}
		p := newUserPool(testUsers(2), c.Now)
		i, _ := p.take()
		code := p.code(i)
		step, ok := mfa.VerifyTOTP(p.users[i].secret, code, c.Now())
		if !ok || step != mfa.TOTPStep(c.Now()) {
			t.Fatalf("code %q: step %d ok %v, want the current step %d", code, step, ok, mfa.TOTPStep(c.Now()))
		}
	})
}

func TestStepIsTheServersStep(t *testing.T) {
	for _, at := range []time.Time{time.Unix(0, 0), time.Unix(29, 0), time.Unix(30, 0), time.Now()} {
		if step(at) != mfa.TOTPStep(at) {
			t.Errorf("step(%v) = %d, the server's %d", at, step(at), mfa.TOTPStep(at))
		}
	}
}
