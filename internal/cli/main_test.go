package cli

import (
	"os"
	"testing"
)

// childEnv, set to 1, makes this test binary the stepgate binary: a command
// that starts stepgate as a child process (bench starts `serve` and its
// bare server from os.Executable(), which is this binary in a test) runs
// its command line instead of the tests.
const childEnv = "GO_WANT_STEPGATE_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		Main()
	}
	os.Exit(m.Run())
}
