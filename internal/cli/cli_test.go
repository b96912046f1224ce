package cli

// noEnv is an environment with no variables set, so that the tests' own
// STEPGATE_* variables cannot reach the commands under test.
func noEnv(string) string { return "" }
