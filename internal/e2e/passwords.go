package e2e

import (
	"testing"

	"github.com/stepgate/stepgate/login"
)

// Hashing a password with StepGate's argon2id parameters (19 MiB, two
// passes) is made to be slow, and was over half of the end-to-end tests'
// CPU time: every user created and every login hashes once. A test binary
// that imports this package hashes with the cheapest parameters argon2id
// accepts instead; what these tests check is the flows around the password,
// not its hashing, which login's own tests check with the real parameters.
// Outside a test binary nothing changes.
func init() {
	if testing.Testing() {
		login.DefaultParams.Memory, login.DefaultParams.Time = 8, 1
	}
}
