// Package cli is the stepgate command line: serve, migrate, keys and the
// administrative commands. cmd/stepgate only calls Main; tests run it in
// process through Run.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// version, when set at build time with
// -ldflags "-X github.com/stepgate/stepgate/internal/cli.version=…", is the
// version stepgate version prints (see versionText).
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

// Main runs the command line of the process and exits with its status.
func Main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// Env is what a command runs with when it is run in process (tests).
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// WrapStore, when set, wraps the store the server uses, e.g. with one
	// that fails on demand.
	WrapStore func(storage.Store) storage.Store
	// Now, when set, is the clock of the server and of every command
	// instead of time.Now, so a test can jump over a TOTP step or a period.
	Now func() time.Time
	// OnFlags, when set, is shown each command's complete flag set before
	// the command line is parsed.
	OnFlags func(command string, fs *flag.FlagSet)
}

// Run runs one command line (without the program name) and returns its exit
// code: 0 ok, 1 failure, 2 usage error.
func Run(ctx context.Context, e Env, args []string) int {
	if e.Stdin == nil {
		e.Stdin = strings.NewReader("")
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	return runEnv(ctx, env{stdin: e.Stdin, stdout: e.Stdout, stderr: e.Stderr, getenv: e.Getenv,
		wrapStore: e.WrapStore, now: e.Now, onFlags: e.OnFlags}, args)
}

// env is what a command runs with; tests pass their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// wrapStore, when set (tests only), wraps the store the server uses,
	// e.g. with one that fails on demand.
	wrapStore func(storage.Store) storage.Store
	// now, when set (tests only), is the server's clock instead of
	// time.Now, so a test can jump over a TOTP step or a period.
	now func() time.Time
	// onFlags, when set (tests only), is shown each command's complete flag
	// set before the command line is parsed.
	onFlags func(command string, fs *flag.FlagSet)
}

// A command is one entry of the dispatch table: the word that selects it,
// other spellings of it, the actions it takes as its next word (none for
// serve, version and help), and the function that runs it.
type command struct {
	name    string
	aliases []string
	actions []string
	run     func(ctx context.Context, e env, args []string) error
}

// commands is the dispatch table. run finds commands here and the commands
// check their action against it (hasAction), so this is the one list there
// is; TestREADMEDocumentsEveryCommandFlagAndSetting holds README.md to it.
// It is filled in init because the commands themselves read it.
var commands []command

func init() {
	commands = []command{
		{name: "serve", run: cmdServe},
		{name: "migrate", actions: []string{"up", "status"}, run: cmdMigrate},
		{name: "keys", actions: []string{"list", "rotate"}, run: cmdKeys},
		{name: "user", actions: []string{"create", "list", "set-password", "disable", "unlock", "set-mfa-bypass",
			"backup-codes regenerate"}, run: cmdUser},
		{name: "client", actions: []string{"create", "list", "set-factors", "delete"}, run: cmdClient},
		{name: "workspace", actions: []string{"show", "set"}, run: cmdWorkspace},
		{name: "audit", actions: []string{"list"}, run: cmdAudit},
		{name: "version", aliases: []string{"--version", "-v"}, run: cmdVersion},
		{name: "help", aliases: []string{"-h", "--help"}, run: cmdHelp},
	}
}

// hasAction reports whether the dispatch table lists action for the command.
func hasAction(name, action string) bool {
	for _, c := range commands {
		if c.name == name {
			return slices.Contains(c.actions, action)
		}
	}
	return false
}

func cmdHelp(_ context.Context, e env, _ []string) error {
	fmt.Fprint(e.stdout, usage)
	return nil
}

// run dispatches a subcommand and returns the process exit code: 0 ok,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return runEnv(ctx, env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}, args)
}

func runEnv(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 2
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] || slices.Contains(c.aliases, args[0]) })
	if i < 0 {
		fmt.Fprintf(e.stderr, "stepgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := commands[i].run(ctx, e, args[1:]); err != nil {
		if ue, ok := err.(usageError); ok {
			fmt.Fprintf(e.stderr, "stepgate: %s\n", ue.msg)
			return 2
		}
		fmt.Fprintf(e.stderr, "stepgate: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }
