package e2e

import (
	"time"

	"github.com/stepgate/stepgate/mfa"
)

// Time moves only forward, and only by these: a test never sleeps for a
// TOTP step, a code's expiry or a period; it jumps the server's clock.

// Advance moves the server's clock (and its replicas') forward by d.
func (s *Server) Advance(d time.Duration) { s.Clock.Advance(d) }

// AwayFromStepEdge moves the server's clock out of the last two seconds of
// a 30-second TOTP step, so that a code computed now is checked in the same
// step.
func (s *Server) AwayFromStepEdge() {
	if r := 30 - s.Clock.Now().Unix()%30; r <= 2 {
		s.Clock.Advance(time.Duration(r)*time.Second + 100*time.Millisecond)
	}
}

// AdvanceToStep moves the server's clock one second into TOTP step n, if it
// is not there yet.
func (s *Server) AdvanceToStep(n int64) {
	if now := s.Clock.Now(); mfa.TOTPStep(now) < n {
		s.Clock.Advance(time.Unix(n*30+1, 0).Sub(now))
	}
}

// TOTPCode is the code an authenticator app with secret shows at the
// server's now.
func (s *Server) TOTPCode(secret []byte) string { return mfa.TOTPCode(secret, s.Clock.Now()) }
