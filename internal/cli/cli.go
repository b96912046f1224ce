// Package cli is the stepgate command line: serve, migrate, keys and the
// administrative commands. cmd/stepgate only calls Main; tests run it in
// process through Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// version, when set at build time with
// -ldflags "-X github.com/stepgate/stepgate/internal/cli.version=…", is the
// version stepgate version prints (see versionText).
var version = "dev"

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
	// OnFlags, when set, is called once the command line has selected a
	// command, before it is parsed further or run (also for --help): with
	// the command's path ("client set-factors") and the names of every flag
	// it takes, without dashes, hidden ones included.
	OnFlags func(command string, flags []string)
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
	// onFlags: see Env.OnFlags.
	onFlags func(command string, flags []string)
}

// run runs a command line and returns the process exit code: 0 ok,
// 1 failure, 2 usage error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return runEnv(ctx, env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}, args)
}

func runEnv(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		// The overview, where a mistake's message would go.
		parse(env{stdout: e.stderr, stderr: e.stderr, getenv: e.getenv}, []string{"--help"})
		return 2
	}
	p, err := parse(e, args)
	if errors.Is(err, errHelped) {
		return 0
	}
	if err == nil {
		var log *slog.Logger
		if p.cfg != nil {
			log = newLogger(p.cfg, e)
		}
		err = p.cmd.run(ctx, e, p.cfg, log)
		if log != nil && isDatabaseFailure(err) {
			log.Error("database failure", "err", err)
			err = errDatabase
		}
	}
	return report(e, err)
}

// errDatabase is what a command says when the database failed it. The
// cause (driver text, SQL) goes to the log line before it, never into the
// message itself.
var errDatabase = errors.New("the database could not be used (unreachable, timed out, or it refused the operation); " +
	"the log line above has the cause")

// databaseError marks an error of connecting to the database.
type databaseError struct{ cause error }

func (d databaseError) Error() string { return d.cause.Error() }
func (d databaseError) Unwrap() error { return d.cause }

func isDatabaseFailure(err error) bool {
	var de databaseError
	return errors.As(err, &de) || errors.Is(err, storage.ErrUnavailable)
}

// report writes what went wrong, if anything, and returns the exit code:
// 0 for no error, 2 for a usageError, 1 for any other.
func report(e env, err error) int {
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "stepgate: %s\n", ue.msg)
		return 2
	}
	fmt.Fprintf(e.stderr, "stepgate: %v\n", err)
	return 1
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }
