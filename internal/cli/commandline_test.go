package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stepgate runs a command line in process and returns its exit code and
// what it wrote to each stream.
func stepgate(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errs, noEnv)
	return code, out.String(), errs.String()
}

// Help is asked for, so it is no mistake: it goes to standard output and
// exits 0, and shows what the reader of that command needs: its synopsis,
// its own flags and the few settings that find the database and the key,
// not the server's thirty.
func TestHelpShowsTheCommandsOwnFlags(t *testing.T) {
	for _, args := range [][]string{
		{"client", "set-factors", "--help"},
		{"client", "set-factors", "-h"},
		{"help", "client", "set-factors"},
		{"client", "set-factors", "SOME_ID", "--otp=on", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errs := stepgate(t, "", args...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			for _, want := range []string{
				"Usage: stepgate client set-factors <client-id>",
				"--otp=on|off", "--email=on|off", "--mfa-max-age=DURATION", "--confirm-remove-bindings", "--json",
				"--dev", "--data-dir=DIR", "--database=URL", "--config=FILE", "--master-key-file=FILE",
				"stepgate serve --help",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("help lacks %q:\n%s", want, out)
				}
			}
			for _, server := range []string{"--smtp-url", "--listen", "--issuer", "--trusted-proxies", "--password-ip-limit"} {
				if strings.Contains(out, server) {
					t.Errorf("an admin command's help shows the server setting %s:\n%s", server, out)
				}
			}
		})
	}
	t.Run("serve --help shows every setting with its default", func(t *testing.T) {
		code, out, _ := stepgate(t, "", "serve", "--help")
		out = strings.Join(strings.Fields(out), " ") // unwrapped
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		for _, s := range settingList {
			if !strings.Contains(out, "--"+s.name) {
				t.Errorf("serve --help lacks --%s", s.name)
			}
		}
		if !strings.Contains(out, "(default: 127.0.0.1:8080)") || !strings.Contains(out, "(default: 15m)") {
			t.Errorf("serve --help does not give the defaults:\n%s", out)
		}
	})
	t.Run("the overview lists every command", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
			code, out, _ := stepgate(t, "", args...)
			if code != 0 || !strings.Contains(out, "user backup-codes regenerate") || !strings.Contains(out, "client set-factors") {
				t.Errorf("stepgate %s: exit %d\n%s", args[0], code, out)
			}
		}
	})
}

// A mistake on the command line exits 2 and says exactly what was wrong,
// on standard error, and where the help is.
func TestCommandLineMistakesSayWhatWasWrong(t *testing.T) {
	dir := t.TempDir()
	cfg := []string{"--dev", "--data-dir", dir}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"an unknown command", []string{"frobnicate"}, []string{`unknown command "frobnicate"`, "stepgate --help"}},
		{"an unknown action", []string{"client", "frob"}, []string{`unknown command "client frob"`, "stepgate client --help"}},
		{"a missing action", []string{"user"}, []string{"user needs a command: create, list, set-password", "backup-codes"}},
		{"a missing argument", []string{"client", "set-factors", "--otp=on"}, []string{"client set-factors: missing argument <client-id>", "stepgate client set-factors --help"}},
		{"an argument too many", []string{"client", "delete", "A", "B"}, []string{`unexpected argument "B"`}},
		{"an unknown flag", []string{"user", "list", "--emial", "x"}, []string{"unknown flag --emial"}},
		{"another command's flag", []string{"user", "list", "--otp=on"}, []string{"unknown flag --otp"}},
		{"a bad on|off value", []string{"client", "set-factors", "A", "--otp=yes please"}, []string{"--otp", `must be on or off, not "yes please"`}},
		{"a bad duration", []string{"client", "set-factors", "A", "--mfa-max-age=soon"}, []string{"--mfa-max-age", `"soon"`}},
		{"a flag without its value", []string{"client", "set-factors", "A", "--otp"}, []string{"--otp needs a value"}},
		{"a negative value after a space", []string{"client", "set-factors", "A", "--mfa-max-age", "-1"}, []string{`--mfa-max-age="-1"`}},
		{"a flag with one dash", []string{"user", "list", "-dev"}, []string{"unknown flag -dev", "two dashes, --dev"}},
		{"a bad setting", []string{"user", "list", "--database", "mysql://x"}, []string{"--database", "sqlite://"}},
		{"a setting given to version", []string{"version", "--dev"}, []string{"version reads no configuration: --dev"}},
		{"set-mfa-bypass without --on or --off", []string{"user", "set-mfa-bypass", "a@example.com"}, []string{"exactly one of --on and --off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := stepgate(t, "", append(cfg, tc.args...)...)
			if code != 2 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and only an error", code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q does not say %q", errs, w)
				}
			}
		})
	}
}

// The README's own line, `client set-factors --dev CLIENT_ID --otp=on`,
// and every other order of flags and arguments, work.
func TestFlagsAndArgumentsInAnyOrder(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := stepgate(t, "", "migrate", "up", "--dev", "--data-dir", dir); code != 0 {
		t.Fatalf("migrate up: %d %s %s", code, out, errs)
	}
	code, out, errs := stepgate(t, "", "--data-dir", dir, "client", "create", "--json", "--dev", "--name", "App",
		"--redirect-uri", "https://app.example/cb")
	if code != 0 {
		t.Fatalf("client create: %d %s", code, errs)
	}
	var c struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" {
		t.Fatalf("client create --json: %q (%v)", out, err)
	}
	for _, args := range [][]string{
		{"client", "set-factors", "--dev", c.ClientID, "--otp=on", "--data-dir", dir},
		{"client", "set-factors", c.ClientID, "--dev", "--data-dir", dir, "--email", "on"},
		{"client", "set-factors", "--data-dir=" + dir, "--otp", "off", "--dev", "--", c.ClientID},
	} {
		if code, out, errs := stepgate(t, "", args...); code != 0 || !strings.Contains(out, "client "+c.ClientID) {
			t.Errorf("%q: exit %d\n%s%s", args, code, out, errs)
		}
	}
	_, out, _ = stepgate(t, "", "client", "list", "--json", "--dev", "--data-dir", dir)
	if !strings.Contains(out, `"factor_otp": false`) || !strings.Contains(out, `"factor_email": true`) {
		t.Errorf("the factors were not all set:\n%s", out)
	}
}

// An admin command in --dev where no server has run says so, instead of
// creating an empty database and reporting on it; serve and migrate up are
// what create one.
func TestDevCommandWithoutDataSaysSo(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"user", "list", "--dev"},
		{"client", "set-factors", "--dev", "CLIENT_ID", "--otp=on"},
		{"migrate", "status", "--dev"},
		{"keys", "list", "--dev"},
	} {
		code, out, errs := stepgate(t, "", args...)
		if code != 1 || out != "" ||
			!strings.Contains(errs, "no StepGate data in ./data: run `stepgate serve --dev` first, or pass --data-dir") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if _, err := os.Stat("data"); !os.IsNotExist(err) {
		t.Fatalf("./data was created: %v", err)
	}
	elsewhere := filepath.Join(t.TempDir(), "missing")
	if code, _, errs := stepgate(t, "", "user", "list", "--dev", "--data-dir", elsewhere); code != 1 ||
		!strings.Contains(errs, "no StepGate data in "+elsewhere) {
		t.Errorf("--data-dir %s: exit %d, %s", elsewhere, code, errs)
	}
	if code, out, errs := stepgate(t, "", "migrate", "up", "--dev"); code != 0 || !strings.Contains(out, "applied 0001") {
		t.Fatalf("migrate up --dev: exit %d %s %s", code, out, errs)
	}
	if code, out, errs := stepgate(t, "", "user", "list", "--dev"); code != 0 || !strings.Contains(out, "EMAIL") {
		t.Errorf("user list --dev after migrate up: exit %d %s %s", code, out, errs)
	}
}
