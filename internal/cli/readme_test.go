package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readme is README.md at the root of the module.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// flagsOf runs the command with -h, which stops it at parsing, and returns
// the names of the flags it really takes (Env.OnFlags).
func flagsOf(t *testing.T, args ...string) []string {
	t.Helper()
	var got []string
	called := false
	e := env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: noEnv,
		onFlags: func(_ string, flags []string) { got, called = flags, true }}
	runEnv(context.Background(), e, append(args, "-h"))
	if !called {
		t.Fatalf("stepgate %s was not shown its flags", strings.Join(args, " "))
	}
	return got
}

// invocations lists every command the grammar has, as "user create",
// "user backup-codes regenerate", "serve", "version".
func invocations(t *testing.T) [][]string {
	t.Helper()
	var cl commandLine
	var helped bool
	k, err := newParser(&cl, io.Discard, io.Discard, &helped)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, n := range k.Model.Leaves(false) {
		out = append(out, strings.Fields(n.Path()))
	}
	return out
}

// usesFlags reports whether the command parses flags at all (version and
// help take none).
func usesFlags(name string) bool { return name != "version" && name != "help" }

// configTable reads README's configuration table: every flag named in a
// row's first cell, with that flag's default cell. A row for two flags
// ("`--a` / `--b` | `6` / `1h`") gives each its own default.
func configTable(t *testing.T, md string) map[string]string {
	t.Helper()
	start := strings.Index(md, "| flag | default | meaning |")
	if start < 0 {
		t.Fatal("README.md has no configuration table (| flag | default | meaning |)")
	}
	flagRe := regexp.MustCompile("`--([a-z0-9-]+)`")
	rows := map[string]string{}
	for _, line := range strings.Split(md[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, " | ")
		if len(cells) < 3 {
			t.Fatalf("configuration table row %q has fewer than three cells", line)
		}
		var names []string
		for _, m := range flagRe.FindAllStringSubmatch(cells[0], -1) {
			names = append(names, m[1])
		}
		defaults := strings.Split(cells[1], " / ")
		for i, n := range names {
			if len(defaults) == len(names) {
				rows[n] = defaults[i]
			} else {
				rows[n] = cells[1]
			}
		}
	}
	return rows
}

// The README is the manual: a command, an action, a flag or a setting that
// it does not mention does not exist for its readers. The lists come from
// the command tree and the flags each command takes, so a new one fails
// here until it is documented.
func TestREADMEDocumentsEveryCommandFlagAndSetting(t *testing.T) {
	md := readme(t)

	t.Run("every command and action is in the command list", func(t *testing.T) {
		var lines []string
		for _, l := range strings.Split(md, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "stepgate ") {
				lines = append(lines, l)
			}
		}
		for _, inv := range invocations(t) {
			name, action := inv[0], strings.Join(inv[1:], " ")
			want := regexp.MustCompile(`(^|[\s|])` + regexp.QuoteMeta(action) + `($|[\s|])`)
			if !slices.ContainsFunc(lines, func(l string) bool {
				rest, ok := strings.CutPrefix(l, "stepgate "+name)
				return ok && (rest == "" || rest[0] == ' ') && want.MatchString(rest)
			}) {
				t.Errorf("README.md's command list has no line %q", "stepgate "+strings.Join(inv, " "))
			}
		}
	})

	t.Run("every flag of every command is mentioned", func(t *testing.T) {
		missing := map[string][]string{} // flag → the commands that have it
		var order []string
		for _, inv := range invocations(t) {
			if !usesFlags(inv[0]) {
				continue
			}
			for _, f := range flagsOf(t, inv...) {
				if !regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `([^a-z0-9-]|$)`).MatchString(md) {
					if missing[f] == nil {
						order = append(order, f)
					}
					missing[f] = append(missing[f], strings.Join(inv, " "))
				}
			}
		}
		for _, n := range order {
			where := missing[n]
			if len(where) > 3 {
				where = append(where[:3:3], "…")
			}
			t.Errorf("README.md never mentions --%s (a flag of stepgate %s)", n, strings.Join(where, ", "))
		}
	})

	t.Run("every setting is a row of the configuration table with its default", func(t *testing.T) {
		rows := configTable(t, md)
		c := defaultConfig()
		defaults := settingDefaults()
		settings := map[string]bool{}
		// --config, how the file is found, is described above the table.
		for _, s := range settingList {
			settings[s.name] = true
			def, ok := rows[s.name]
			if !ok {
				t.Errorf("README.md's configuration table has no row for --%s", s.name)
				continue
			}
			switch v := defaults[s.name]; v {
			case "", "false", "0":
			default:
				if !strings.Contains(def, "`"+v+"`") {
					t.Errorf("README.md gives --%s the default %q; the flag's default is `%s`", s.name, def, v)
				}
			}
		}
		for n := range rows {
			if !settings[n] {
				t.Errorf("README.md's configuration table has a row for --%s, which is no setting", n)
			}
		}
		// Every field of Config is a setting: a flag of the same name (its
		// YAML key with dashes), or STEPGATE_MASTER_KEY, the one that is
		// only read from the environment.
		typ := reflect.TypeOf(c)
		for i := range typ.NumField() {
			key := strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]
			if key == "-" {
				if typ.Field(i).Name != "MasterKey" {
					t.Errorf("Config.%s is in no file and no flag; document how it is set and add it here", typ.Field(i).Name)
				}
				continue
			}
			if name := strings.ReplaceAll(key, "_", "-"); !settings[name] {
				t.Errorf("Config.%s (yaml %q) has no flag --%s", typ.Field(i).Name, key, name)
			}
		}
		if !strings.Contains(md, "`STEPGATE_MASTER_KEY`") {
			t.Error("README.md does not say that the master key can be set as STEPGATE_MASTER_KEY")
		}
	})
}

// readmeCommands returns the stepgate command lines of README.md's shell
// blocks as the shell would split them, continuations joined and comments
// dropped.
func readmeCommands(t *testing.T, md string) [][]string {
	t.Helper()
	var out [][]string
	inShell := false
	var pending string
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inShell = trimmed == "```sh"
			continue
		}
		if !inShell {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending += cont + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		_, cmd, ok := strings.Cut(full, "go run ./cmd/stepgate ")
		if !ok {
			continue
		}
		words, err := shellWords(cmd)
		if err != nil {
			t.Fatalf("README.md: %q: %v", full, err)
		}
		out = append(out, words)
	}
	return out
}

// shellWords splits a command line as sh does for the README's needs:
// blanks, single and double quotes, and a # comment.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words, nil
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Every stepgate command line the README shows is one the command line
// accepts, exactly as written (placeholders such as CLIENT_ID are
// arguments like any other).
func TestREADMECommandLinesParse(t *testing.T) {
	lines := readmeCommands(t, readme(t))
	if len(lines) < 5 {
		t.Fatalf("found only %d stepgate command lines in README.md: %q", len(lines), lines)
	}
	for _, args := range lines {
		if _, err := parse(env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, args); err != nil {
			t.Errorf("README.md's `stepgate %s` is refused: %v", strings.Join(args, " "), err)
		}
	}
}
