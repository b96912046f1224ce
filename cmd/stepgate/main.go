// Command stepgate is the StepGate OpenID Provider: one binary that serves,
// migrates, and manages keys, users and clients.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/stepgate/stepgate/storage"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `StepGate — OpenID Connect provider with step-up MFA

Usage:
  stepgate serve [flags]                 run the server
  stepgate migrate up|status [flags]     apply or list schema migrations
  stepgate keys list|rotate [flags]      manage token-signing keys
  stepgate user create|list|set-password|disable|unlock [flags]
  stepgate user backup-codes regenerate EMAIL_OR_ID
  stepgate client create|list|set-factors|delete [flags]
  stepgate workspace show | set [--mfa-required=on|off] [--factors=otp,email]
  stepgate user set-mfa-bypass EMAIL_OR_ID --on|--off
  stepgate audit list [--user U] [--type T] [--result R] [--since D] [--json|--csv]
  stepgate version

Every command takes the configuration flags (see 'stepgate serve -h');
each flag can also be set as STEPGATE_<FLAG_NAME> or in a --config YAML file.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// env is what a command runs with; tests pass their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// wrapStore, when set (tests only), wraps the store the server uses,
	// e.g. with one that fails on demand.
	wrapStore func(storage.Store) storage.Store
}

// run dispatches a subcommand and returns the process exit code: 0 ok,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = cmdServe(ctx, e, rest)
	case "migrate":
		err = cmdMigrate(ctx, e, rest)
	case "keys":
		err = cmdKeys(ctx, e, rest)
	case "user":
		err = cmdUser(ctx, e, rest)
	case "client":
		err = cmdClient(ctx, e, rest)
	case "audit":
		err = cmdAudit(ctx, e, rest)
	case "workspace":
		err = cmdWorkspace(ctx, e, rest)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "stepgate", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "stepgate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if ue, ok := err.(usageError); ok {
			fmt.Fprintf(stderr, "stepgate: %s\n", ue.msg)
			return 2
		}
		fmt.Fprintf(stderr, "stepgate: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }
