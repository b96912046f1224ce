package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/stepgate/stepgate/mfa"
)

// commandLine is the command tree. Each leaf is a struct in the file of its
// command: its fields are its own flags and arguments, its run method does
// the work. The configuration flags are the root's, so each command takes
// them anywhere after its name (kong parses flags and arguments in any
// order); showSettings picks those its help shows. Kong builds the tree at
// every run: with the settings once, not on each of 20 commands, that
// takes a millisecond instead of fifty.
type commandLine struct {
	configFlags

	Serve   serveCmd `cmd:"" help:"Run the server."`
	Migrate struct {
		Up     migrateUpCmd     `cmd:"" help:"Apply pending schema migrations."`
		Status migrateStatusCmd `cmd:"" help:"List migrations and which are applied."`
	} `cmd:"" help:"Apply or list schema migrations."`
	Keys struct {
		List   keysListCmd   `cmd:"" help:"List the token-signing keys."`
		Rotate keysRotateCmd `cmd:"" help:"Publish a new signing key."`
	} `cmd:"" help:"Manage token-signing keys."`
	User struct {
		Create       userCreateCmd       `cmd:"" help:"Create a user (password on stdin)."`
		List         userListCmd         `cmd:"" help:"List the users."`
		SetPassword  userSetPasswordCmd  `cmd:"" name:"set-password" help:"Set a password (on stdin); ends sessions."`
		Show         userShowCmd         `cmd:"" help:"Show a user: factors, backup codes, locks, bypass, sessions."`
		Disable      userDisableCmd      `cmd:"" help:"Disable a user; ends their sessions."`
		Enable       userEnableCmd       `cmd:"" help:"Let a disabled user sign in again."`
		Unlock       userUnlockCmd       `cmd:"" help:"End a user's lockouts early."`
		SetMFABypass userSetMFABypassCmd `cmd:"" name:"set-mfa-bypass" help:"Exempt a user from MFA policy, or not."`
		SetRole      userSetRoleCmd      `cmd:"" name:"set-role" help:"Change a user's role (owner hands ownership over)."`
		ResetOTP     userResetOTPCmd     `cmd:"" name:"reset-otp" help:"Remove a user's authenticator and backup codes; ends sessions."`
		EndSessions  userEndSessionsCmd  `cmd:"" name:"end-sessions" help:"Sign a user out of every session, or of one."`
		BackupCodes  struct {
			Regenerate userBackupCodesRegenerateCmd `cmd:"" help:"Replace a user's backup codes."`
		} `cmd:"" name:"backup-codes" help:"Manage a user's backup codes."`
	} `cmd:"" help:"Manage users."`
	Client struct {
		Create       clientCreateCmd       `cmd:"" help:"Register an application."`
		List         clientListCmd         `cmd:"" help:"List the applications with their factors."`
		Show         clientShowCmd         `cmd:"" help:"Show an application's settings and factors."`
		Update       clientUpdateCmd       `cmd:"" help:"Change an application's settings (only those given)."`
		RotateSecret clientRotateSecretCmd `cmd:"" name:"rotate-secret" help:"Give an application a new secret (shown once)."`
		SetFactors   clientSetFactorsCmd   `cmd:"" name:"set-factors" help:"Set an application's second factors."`
		Delete       clientDeleteCmd       `cmd:"" help:"Delete an application and its tokens."`
	} `cmd:"" help:"Manage applications (OpenID Connect clients)."`
	Workspace struct {
		Show workspaceShowCmd `cmd:"" help:"Show the workspace MFA policy."`
		Set  workspaceSetCmd  `cmd:"" help:"Change the workspace MFA policy."`
	} `cmd:"" help:"Show or change the workspace MFA policy."`
	Audit struct {
		List auditListCmd `cmd:"" help:"List audit events, newest first."`
	} `cmd:"" help:"Read the audit trail."`
	Bench   benchCmd   `cmd:"" help:"Load benchmark: logins, tokens, discovery and JWKS beside the argon2id floor and bare net/http."`
	Version versionCmd `cmd:"" help:"Print the version of this build."`
	Help    helpCmd    `cmd:"" help:"Show the help of a command."`
}

// helpCmd is in the tree for the overview and `help help`; parse turns
// "help COMMAND…" into "COMMAND… --help" before the grammar sees it.
type helpCmd struct {
	Command []string `arg:"" optional:"" help:"the command, e.g. client set-factors"`
}

func (helpCmd) takesNoConfig() {}

func (helpCmd) run(_ context.Context, e env, _ *Config, _ *slog.Logger) error {
	parse(e, []string{"--help"})
	return nil
}

// A command is a leaf of the command tree. cfg and log are nil for the
// commands that take no configuration (version, help).
type command interface {
	run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error
}

// takesNoConfig is a command that reads no configuration (version, help):
// a configuration flag given to it is a mistake.
type takesNoConfig interface {
	takesNoConfig()
}

// adminSettings are the configuration flags the help of an admin command
// shows: what finds the database and the master key. The others are
// accepted but hidden (serve's help shows them all); extraSettings adds
// what a command reads beyond them.
var (
	adminSettings = []string{"config", "dev", "data-dir", "database", "master-key-file"}
	extraSettings = map[string][]string{
		"keys rotate": {"signing-algorithm", "key-rotation-delay", "access-token-lifetime", "id-token-lifetime"},
		"bench":       {"signing-algorithm", "log-level", "database-timeout"},
	}
)

const configGroup = "config"

// newParser builds the parser for one run. helped is set when a help flag
// printed the help, after which kong goes on parsing: the run then ends
// there with 0 whatever else the line holds.
func newParser(cl *commandLine, stdout, stderr io.Writer, helped *bool) (*kong.Kong, error) {
	defaults := settingDefaults()
	return kong.New(cl,
		kong.Name("stepgate"),
		kong.Description("StepGate — OpenID Connect provider with step-up MFA."),
		kong.Writers(stdout, stderr),
		kong.Vars{"event_codes": mfa.EventCodeList()},
		kong.Exit(func(int) { *helped = true }),
		kong.ExplicitGroups([]kong.Group{{
			Key:         configGroup,
			Title:       "Configuration:",
			Description: "Each can also be set as STEPGATE_<FLAG> (--data-dir: STEPGATE_DATA_DIR) or in the --config file.",
		}}),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 120}),
		kong.ValueFormatter(func(v *kong.Value) string {
			def := v.Default
			if v.Flag != nil && v.Flag.Group != nil && v.Flag.Group.Key == configGroup {
				def = defaults[v.Name]
			}
			if def == "" || v.IsBool() {
				return v.Help
			}
			return v.Help + " (default: " + def + ")"
		}),
		kong.Help(func(options kong.HelpOptions, ctx *kong.Context) error {
			if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
				return err
			}
			if n := ctx.Selected(); n != nil && takesConfig(n) && n.Path() != "serve" {
				fmt.Fprintln(ctx.Stdout, "\nThe other settings (stepgate serve --help) are accepted too.")
			}
			return nil
		}),
	)
}

// takesConfig reports whether n is a command that reads the configuration
// (not a group of commands such as "user", not version or help).
func takesConfig(n *kong.Node) bool {
	_, no := commandOf(n).(takesNoConfig)
	return n.Type == kong.CommandNode && n.Leaf() && !no
}

// commandOf is the struct behind a node of the tree.
func commandOf(n *kong.Node) any {
	t := n.Target
	if t.Kind() != reflect.Pointer {
		t = t.Addr()
	}
	return t.Interface()
}

// showSettings shows, in the help of the command n, the configuration
// flags it is to be told about: all for serve, none where there is no
// command or it takes no configuration, else adminSettings and its
// extraSettings. The others stay accepted, only hidden.
func showSettings(k *kong.Kong, n *kong.Node) {
	shown := func(string) bool { return false }
	switch {
	case n != nil && n.Path() == "serve":
		shown = func(string) bool { return true }
	case n != nil && takesConfig(n):
		names := append(slices.Clone(adminSettings), extraSettings[n.Path()]...)
		shown = func(name string) bool { return slices.Contains(names, name) }
	}
	for _, f := range k.Model.Flags {
		if f.Group != nil && f.Group.Key == configGroup {
			f.Hidden = !shown(f.Name)
		}
	}
}

// parsed is a command line the grammar accepted, with the configuration
// of the command (nil for version and help).
type parsed struct {
	path string // "client set-factors"
	cmd  command
	cfg  *Config
}

// errHelped ends a run whose command line asked for help: it was shown.
var errHelped = errors.New("help shown")

// parse reads a command line: the command, its flags and arguments, and
// its configuration. A mistake is a usageError saying what was wrong.
func parse(e env, args []string) (*parsed, error) {
	switch {
	case len(args) > 0 && (args[0] == "--version" || args[0] == "-v"):
		args = append([]string{"version"}, args[1:]...)
	case len(args) > 0 && args[0] == "help":
		// "help client set-factors" is "client set-factors --help".
		args = append(slices.Clone(args[1:]), "--help")
	}
	var cl commandLine
	var helped bool
	k, err := newParser(&cl, e.stdout, e.stderr, &helped)
	if err != nil {
		return nil, err // a mistake in the grammar, found by every test
	}
	// The trace finds the command before parsing, so help shows its
	// settings and OnFlags sees its flags; Parse reports any mistake.
	var selected *kong.Node
	tr, terr := kong.Trace(k, args)
	if terr == nil && tr.Error == nil {
		selected = tr.Selected()
	}
	showSettings(k, selected)
	if e.onFlags != nil && selected != nil {
		var names []string
		for _, group := range selected.AllFlags(false) {
			for _, f := range group {
				if f.Name != "help" && (takesConfig(selected) || f.Group == nil || f.Group.Key != configGroup) {
					names = append(names, f.Name)
				}
			}
		}
		e.onFlags(selected.Path(), names)
	}
	kctx, err := k.Parse(args)
	if helped {
		return nil, errHelped
	}
	if err != nil {
		return nil, usageError{parseErrorText(err, args)}
	}
	n := kctx.Selected()
	cmd, ok := commandOf(n).(command)
	if !ok {
		return nil, fmt.Errorf("stepgate %s has no body", n.Path()) // a grammar mistake
	}
	p := &parsed{path: n.Path(), cmd: cmd}
	if !takesConfig(n) {
		for _, t := range kctx.Path {
			if t.Flag != nil && t.Flag.Group != nil && t.Flag.Group.Key == configGroup {
				return nil, usageError{fmt.Sprintf("%s reads no configuration: --%s does not apply\n(see 'stepgate %s --help')",
					n.Path(), t.Flag.Name, n.Path())}
			}
		}
		return p, nil
	}
	if p.cfg, err = loadConfig(&cl.configFlags, e.getenv, p.path == "serve"); err != nil {
		return nil, usagef("%v", err)
	}
	return p, nil
}

var (
	unexpectedArg = regexp.MustCompile(`^unexpected argument (.*)$`)
	missingArgs   = regexp.MustCompile(`^expected "(<.*>)"$`)
	missingValue  = regexp.MustCompile(`^(--[a-z0-9-]+): expected .* but got "EOL" \(<EOL>\)$`)
	unknownShort  = regexp.MustCompile(`^unknown flag -([a-zA-Z])\b`)
)

// parseErrorText says what was wrong with a command line, in words a
// reader can act on, and where its help is.
func parseErrorText(err error, args []string) string {
	msg := err.Error()
	var where string // "client set-factors"
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if n := pe.Context.Selected(); n != nil {
			where = n.Path()
		}
	}
	if m := unexpectedArg.FindStringSubmatch(msg); m != nil {
		if pe != nil && pe.Context != nil && (pe.Context.Selected() == nil || !pe.Context.Selected().Leaf()) {
			msg = fmt.Sprintf("unknown command %q", strings.TrimSpace(where+" "+m[1]))
		} else {
			msg = fmt.Sprintf("unexpected argument %q: stepgate %s takes no more arguments", m[1], where)
		}
	} else if m := missingArgs.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s: missing argument %s", where, strings.Join(strings.Fields(m[1]), " "))
	} else if strings.HasPrefix(msg, "expected ") && pe != nil && pe.Context.Selected() != nil && !pe.Context.Selected().Leaf() {
		var names []string
		for _, c := range pe.Context.Selected().Children {
			names = append(names, c.Name)
		}
		msg = fmt.Sprintf("%s needs a command: %s", where, strings.Join(names, ", "))
	} else if m := missingValue.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("%s needs a value: %s=…", m[1], m[1])
	} else if m := unknownShort.FindStringSubmatch(msg); m != nil {
		// Go's flag package took -config for --config; kong reads it as -c -o -n…
		for _, a := range args {
			if strings.HasPrefix(a, "-"+m[1]) && len(a) > 2 && !strings.HasPrefix(a, "--") {
				long, _, _ := strings.Cut(a[1:], "=")
				msg = fmt.Sprintf("unknown flag %s: flags take two dashes, --%s", a, long)
				break
			}
		}
	}
	help := "stepgate --help"
	if where != "" {
		help = "stepgate " + where + " --help"
	}
	return msg + "\n(see '" + help + "')"
}
