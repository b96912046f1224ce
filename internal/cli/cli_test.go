package cli

import "github.com/stepgate/stepgate/login"

// noEnv is an environment with no variables set, so that the tests' own
// STEPGATE_* variables cannot reach the commands under test.
func noEnv(string) string { return "" }

// The commands' tests check what each command passes to admin and prints,
// not password hashing (login's tests do, at the real parameters): they
// hash with argon2id's cheapest parameters, as the e2e harness does.
func init() { login.DefaultParams.Memory, login.DefaultParams.Time = 8, 1 }
