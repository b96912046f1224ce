package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// The client and workspace commands run here as the binary runs them
// (runEnv), on a migrated database of each engine: SQLite always,
// PostgreSQL when STEPGATE_TEST_POSTGRES_DSN is set. What admin decides is
// tested in package admin; these check that each command passes its flags
// to it, prints its result, and says what admin refused in the command
// line's words.

// cmdClock is the commands' clock (env.now): a fixed time, so what they
// stamp shows it came from the injected clock.
var cmdClock = time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)

// cmdDB is a database the commands act on, and the store to look into it.
type cmdDB struct {
	t      *testing.T
	args   []string // configuration flags every command gets
	getenv func(string) string
	store  *sqlstore.Store
}

// cmdEngines runs fn on a fresh, migrated database of each engine.
func cmdEngines(t *testing.T, fn func(t *testing.T, db *cmdDB)) {
	onFreshDBs(t, func(t *testing.T, f freshDB) {
		fn(t, &cmdDB{t: t, args: []string{"--dev", "--data-dir", f.dir, "--database", f.url},
			getenv: masterKeyEnv(f.key), store: f.store})
	})
}

// run runs one command line on the database and returns its exit code,
// standard output and standard error.
func (db *cmdDB) run(stdin string, args ...string) (code int, stdout, stderr string) {
	return runCommand(db.getenv, func() time.Time { return cmdClock }, stdin, append(slices.Clone(args), db.args...)...)
}

// ok runs a command that must succeed and returns its standard output.
func (db *cmdDB) ok(args ...string) string {
	db.t.Helper()
	code, out, errs := db.run("", args...)
	if code != 0 {
		db.t.Fatalf("stepgate %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// json runs a command with --json and decodes what it prints into v.
func (db *cmdDB) json(v any, args ...string) {
	db.t.Helper()
	out := db.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		db.t.Fatalf("stepgate %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// audit returns the audit rows of one event code.
func (db *cmdDB) audit(code string) []storage.AuditEvent {
	db.t.Helper()
	rows, err := db.store.ListAudit(db.t.Context(), storage.AuditFilter{Type: code})
	if err != nil {
		db.t.Fatal(err)
	}
	return rows
}

// secretWorks asks the token endpoint's own check whether secret
// authenticates the client.
func (db *cmdDB) secretWorks(id, secret string) bool {
	p := &op.Storage{Store: db.store, Log: slog.New(slog.DiscardHandler)}
	return p.AuthorizeClientIDSecret(db.t.Context(), id, secret) == nil
}

// seedOTPUser creates a user with a confirmed authenticator binding.
func (db *cmdDB) seedOTPUser(id string) {
	db.t.Helper()
	ctx := db.t.Context()
	for step, err := range []error{
		db.store.CreateUser(ctx, &storage.User{ID: id, Email: id + "@example.com", Name: id, Role: storage.RoleMember,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: cmdClock, UpdatedAt: cmdClock}),
		db.store.PutPendingFactor(ctx, &storage.FactorBinding{ID: "b-" + id, UserID: id, Kind: storage.FactorTOTP,
			SealedSecret: []byte("sealed"), CreatedAt: cmdClock}),
		db.store.ConfirmFactor(ctx, "b-"+id, cmdClock, 1),
	} {
		if err != nil {
			db.t.Fatalf("seed %s, step %d: %v", id, step, err)
		}
	}
}

func (db *cmdDB) bindings() int64 {
	db.t.Helper()
	n, err := db.store.CountFactorsOfKind(db.t.Context(), storage.FactorTOTP)
	if err != nil {
		db.t.Fatal(err)
	}
	return n
}

// field matches a "name:   value" line of client show.
func field(name, value string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+` + regexp.QuoteMeta(value) + `$`)
}

func TestClientCommands(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var created clientJSON
		db.json(&created, "client", "create", "--name", "Shop", "--redirect-uri", "https://shop.example/cb",
			"--post-logout-redirect-uri", "https://shop.example/", "--access-token-ttl", "10m", "--refresh-token-ttl", "720h")
		id := created.ClientID

		t.Run("create prints the secret once, the lifetimes given, and the injected clock's time", func(t *testing.T) {
			if id == "" || created.ClientSecret == "" || !db.secretWorks(id, created.ClientSecret) {
				t.Fatalf("created %+v: want an ID and a secret that authenticates it", created)
			}
			if created.AccessTokenLifetime != "10m0s" || created.IDTokenLifetime != "0s" ||
				created.RefreshTokenLifetime != "720h0m0s" || created.TokenFormat != "jwt" {
				t.Errorf("lifetimes and format %+v", created)
			}
			if !created.CreatedAt.Equal(cmdClock) {
				t.Errorf("created_at %v, want the commands' clock %v", created.CreatedAt, cmdClock)
			}
			rows := db.audit(mfa.EventClientCreated)
			if len(rows) != 1 || rows[0].ClientID != id || !strings.HasPrefix(rows[0].Actor, "cli") ||
				!rows[0].At.Equal(cmdClock) || strings.Contains(rows[0].Detail, created.ClientSecret) {
				t.Errorf("audit %+v", rows)
			}
		})

		t.Run("create prints the lines scripts read", func(t *testing.T) {
			out := db.ok("client", "create", "--name", "Text", "--redirect-uri", "https://text.example/cb")
			if !regexp.MustCompile(`(?m)^client_id:     [0-9a-f]{32}\nclient_secret: \S{43}$`).MatchString(out) {
				t.Errorf("client create prints:\n%s", out)
			}
			out = db.ok("client", "create", "--name", "Spa", "--redirect-uri", "https://spa.example/cb", "--public")
			if !strings.HasPrefix(out, "client_id:     ") || strings.Contains(out, "client_secret") {
				t.Errorf("a public client's create prints:\n%s", out)
			}
		})

		t.Run("show prints every setting and factor", func(t *testing.T) {
			out := db.ok("client", "show", id)
			for _, want := range []*regexp.Regexp{
				field("client_id", id), field("name", "Shop"), field("type", "confidential"),
				field("redirect_uris", "https://shop.example/cb"),
				field("post_logout_redirect_uris", "https://shop.example/"), field("token_format", "jwt"),
				field("access_token_lifetime", "10m0s"), field("id_token_lifetime", "server's"),
				field("refresh_token_lifetime", "720h0m0s"), field("otp", "off"), field("email", "off"),
				field("mfa_max_age", "session"), field("created_at", "2031-03-04T10:00:00Z"),
			} {
				if !want.MatchString(out) {
					t.Errorf("client show has no line %s:\n%s", want, out)
				}
			}
			if strings.Contains(out, created.ClientSecret) {
				t.Error("client show printed the secret")
			}
			var shown clientJSON
			db.json(&shown, "client", "show", id)
			if shown.ClientSecret != "" || shown.Name != "Shop" || shown.AccessTokenLifetime != "10m0s" {
				t.Errorf("client show --json %+v", shown)
			}
		})

		t.Run("list shows each application's factors", func(t *testing.T) {
			db.ok("client", "set-factors", id, "--otp=on", "--mfa-max-age=8h")
			out := db.ok("client", "list")
			if !strings.Contains(out, "OTP") || !strings.Contains(out, "EMAIL") || !strings.Contains(out, "RE-AUTH") {
				t.Errorf("the table has no factor columns:\n%s", out)
			}
			if !regexp.MustCompile(`(?m)^` + id + `\s+Shop\s+confidential\s+jwt\s+on\s+off\s+8h0m0s\s+https://shop\.example/cb$`).MatchString(out) {
				t.Errorf("the row of Shop does not show otp on, email off, 8h:\n%s", out)
			}
			var list []clientJSON
			db.json(&list, "client", "list")
			i := slices.IndexFunc(list, func(c clientJSON) bool { return c.ClientID == id })
			if len(list) != 3 || i < 0 || !list[i].FactorOTP || list[i].FactorEmail || list[i].MFAMaxAge != "8h0m0s" {
				t.Errorf("client list --json %+v", list)
			}
		})

		t.Run("update changes only what is given", func(t *testing.T) {
			var got clientJSON
			db.json(&got, "client", "update", id, "--name", "Shop 2", "--token-format", "opaque")
			if got.Name != "Shop 2" || got.TokenFormat != "opaque" || got.AccessTokenLifetime != "10m0s" ||
				!slices.Equal(got.RedirectURIs, []string{"https://shop.example/cb"}) ||
				!slices.Equal(got.PostLogoutRedirectURIs, []string{"https://shop.example/"}) || !got.FactorOTP {
				t.Errorf("after --name and --token-format: %+v", got)
			}
			db.json(&got, "client", "update", "--redirect-uri", "https://a.example/cb", id,
				"--redirect-uri", "https://b.example/cb", "--post-logout-redirect-uri", "", "--id-token-ttl", "5m",
				"--access-token-ttl", "0")
			if !slices.Equal(got.RedirectURIs, []string{"https://a.example/cb", "https://b.example/cb"}) ||
				len(got.PostLogoutRedirectURIs) != 0 || got.IDTokenLifetime != "5m0s" ||
				got.AccessTokenLifetime != "0s" || got.Name != "Shop 2" {
				t.Errorf("after the URIs and lifetimes: %+v", got)
			}
			if rows := db.audit(mfa.EventClientUpdated); len(rows) != 2 {
				t.Errorf("%d update rows, want 2", len(rows))
			}
			out := db.ok("client", "update", id, "--name", "Shop 3")
			if !field("name", "Shop 3").MatchString(out) || !field("token_format", "opaque").MatchString(out) {
				t.Errorf("client update prints:\n%s", out)
			}
		})

		t.Run("rotate-secret shows a new secret once; the old one stops working", func(t *testing.T) {
			var got clientJSON
			db.json(&got, "client", "rotate-secret", id)
			if got.ClientID != id || got.ClientSecret == "" || got.ClientSecret == created.ClientSecret {
				t.Fatalf("rotate-secret --json %+v", got)
			}
			if db.secretWorks(id, created.ClientSecret) || !db.secretWorks(id, got.ClientSecret) {
				t.Error("after rotating, the old secret works or the new one does not")
			}
			out := db.ok("client", "rotate-secret", id)
			m := regexp.MustCompile(`(?m)^client_secret: (\S+)$`).FindStringSubmatch(out)
			if !strings.HasPrefix(out, "client_id:     "+id+"\n") || m == nil || !db.secretWorks(id, m[1]) ||
				db.secretWorks(id, got.ClientSecret) {
				t.Errorf("client rotate-secret prints:\n%s", out)
			}
			rows := db.audit(mfa.EventClientSecretRotated)
			if len(rows) != 2 || strings.Contains(rows[0].Detail, m[1]) {
				t.Errorf("audit %+v", rows)
			}
		})

		t.Run("delete removes it; then it is not found", func(t *testing.T) {
			out := db.ok("client", "delete", id)
			if !strings.Contains(out, "deleted client "+id) {
				t.Errorf("client delete prints %q", out)
			}
			code, _, errs := db.run("", "client", "show", id)
			if code != 1 || !strings.Contains(errs, fmt.Sprintf("no client %q", id)) {
				t.Errorf("show after delete: exit %d %s", code, errs)
			}
			if rows := db.audit(mfa.EventClientDeleted); len(rows) != 1 || rows[0].ClientID != id {
				t.Errorf("audit %+v", rows)
			}
		})
	})
}

// What admin refuses, the command line says in its own words: a field
// error names the flag that set the field and is a usage error (exit 2),
// with nothing changed; a client that does not exist, or a change that
// clashes, exits 1 with admin's sentence.
func TestClientCommandErrors(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var app, spa clientJSON
		db.json(&app, "client", "create", "--name", "App", "--redirect-uri", "https://app.example/cb")
		db.json(&spa, "client", "create", "--name", "Spa", "--redirect-uri", "https://spa.example/cb", "--public")
		before := db.ok("client", "show", app.ClientID)
		for _, c := range []struct {
			name string
			args []string
			code int
			want []string
		}{
			{"create without a name or a redirect URI", []string{"client", "create", "--name", " "}, 2,
				[]string{"stepgate: --name: is required\n", "stepgate: --redirect-uri: at least one redirect URI is required\n"}},
			{"create with a refused URI and lifetime", []string{"client", "create", "--name", "X", "--redirect-uri",
				"http://x.example/cb", "--post-logout-redirect-uri", "myapp://out", "--refresh-token-ttl", "30s",
				"--token-format", "paseto"}, 2,
				[]string{"stepgate: --redirect-uri: redirect URI", "must use https", "stepgate: --post-logout-redirect-uri: ",
					"stepgate: --token-format: must be jwt or opaque", "stepgate: --refresh-token-ttl: must be whole seconds"}},
			{"update to a refused value", []string{"client", "update", app.ClientID, "--name", "", "--access-token-ttl", "25h",
				"--redirect-uri", "https://ok.example/cb#frag"}, 2,
				[]string{"stepgate: --name: is required", "stepgate: --access-token-ttl: ", "stepgate: --redirect-uri: ", "fragment"}},
			{"update with nothing to change", []string{"client", "update", app.ClientID}, 2,
				[]string{"give what to change", "client update --help"}},
			{"set-factors with a fractional period", []string{"client", "set-factors", app.ClientID, "--mfa-max-age=1500ms"}, 2,
				[]string{"stepgate: --mfa-max-age: "}},
			{"show an unknown client", []string{"client", "show", "nope"}, 1, []string{`stepgate: no client "nope"`}},
			{"update an unknown client", []string{"client", "update", "nope", "--name", "N"}, 1, []string{`no client "nope"`}},
			{"rotate an unknown client's secret", []string{"client", "rotate-secret", "nope"}, 1, []string{`no client "nope"`}},
			{"set an unknown client's factors", []string{"client", "set-factors", "nope", "--otp=on"}, 1, []string{`no client "nope"`}},
			{"delete an unknown client", []string{"client", "delete", "nope"}, 1, []string{`no client "nope"`}},
			{"rotate a public client's secret", []string{"client", "rotate-secret", spa.ClientID}, 1,
				[]string{"is public: it has no secret to rotate"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				code, out, errs := db.run("", c.args...)
				if code != c.code {
					t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errs)
				}
				for _, w := range c.want {
					if !strings.Contains(errs, w) {
						t.Errorf("stderr has no %q:\n%s", w, errs)
					}
				}
				if strings.Contains(errs, "_") && !strings.Contains(strings.Join(c.args, " "), "_") {
					t.Errorf("stderr names a field, not a flag:\n%s", errs)
				}
			})
		}
		if after := db.ok("client", "show", app.ClientID); after != before {
			t.Errorf("a refused change changed the client:\n%s\nwas\n%s", after, before)
		}
		var list []clientJSON
		if db.json(&list, "client", "list"); len(list) != 2 {
			t.Errorf("a refused create stored a client: %+v", list)
		}
	})
}

// Turning OTP off, on an application or in the workspace policy, keeps the
// last-OTP-user rule through the command line: the keepers named, else a
// refusal with the count that --confirm-remove-bindings overrides.
func TestOTPOffCommands(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var a, b clientJSON
		db.json(&a, "client", "create", "--name", "App A", "--redirect-uri", "https://a.example/cb")
		db.json(&b, "client", "create", "--name", "App B", "--redirect-uri", "https://b.example/cb")
		db.ok("client", "set-factors", a.ClientID, "--otp=on")
		db.ok("client", "set-factors", b.ClientID, "--otp=on", "--email=on")
		db.seedOTPUser("u1")
		db.seedOTPUser("u2")

		out := db.ok("client", "set-factors", a.ClientID, "--otp=off")
		if !strings.Contains(out, "client "+a.ClientID+": otp=off email=off mfa-max-age=session\n") ||
			!strings.Contains(out, `authenticator bindings are kept: OTP is still used by "App B" (`+b.ClientID+")") {
			t.Errorf("the first OTP off prints:\n%s", out)
		}
		code, _, errs := db.run("", "client", "set-factors", b.ClientID, "--otp=off")
		if code != 1 || !strings.Contains(errs, "--confirm-remove-bindings") || !strings.Contains(errs, "2 user(s)") ||
			!strings.Contains(errs, "no other application and not the workspace policy uses OTP") {
			t.Errorf("the last OTP off without confirmation: exit %d %s", code, errs)
		}
		var got clientJSON
		if db.json(&got, "client", "show", b.ClientID); !got.FactorOTP || db.bindings() != 2 {
			t.Fatalf("the refused change changed something: %+v, %d bindings", got, db.bindings())
		}
		out = db.ok("client", "set-factors", b.ClientID, "--otp=off", "--confirm-remove-bindings")
		if !strings.Contains(out, "removed 2 authenticator binding(s)") || db.bindings() != 0 {
			t.Errorf("confirmed: %s (%d bindings left)", out, db.bindings())
		}

		// The workspace: mandatory MFA with OTP is a keeper; turning it off
		// with no application using OTP asks first.
		db.ok("workspace", "set", "--mfa-required=on")
		db.seedOTPUser("u3")
		code, _, errs = db.run("", "workspace", "set", "--mfa-required=off")
		if code != 1 || !strings.Contains(errs, "this change of the workspace policy") ||
			!strings.Contains(errs, "1 user(s)") || !strings.Contains(errs, "--confirm-remove-bindings") {
			t.Errorf("workspace off without confirmation: exit %d %s", code, errs)
		}
		var ws workspaceJSON
		if db.json(&ws, "workspace", "show"); !ws.MFARequired || db.bindings() != 1 {
			t.Errorf("the refused workspace change changed something: %+v, %d bindings", ws, db.bindings())
		}
		out = db.ok("workspace", "set", "--confirm-remove-bindings", "--factors=email")
		if !strings.Contains(out, "factors=email\n") || !strings.Contains(out, "removed 1 authenticator binding(s)") {
			t.Errorf("confirmed workspace change prints:\n%s", out)
		}
	})
}

func TestWorkspaceCommands(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		if out := db.ok("workspace", "show"); out != "mfa-required=off targets=console,applications factors=otp,email\n" {
			t.Errorf("the default policy shows as %q", out)
		}
		out := db.ok("workspace", "set", "--targets=console", "--mfa-required=on")
		if out != "mfa-required=on targets=console factors=otp,email\n" {
			t.Errorf("workspace set prints %q", out)
		}
		var ws workspaceJSON
		db.json(&ws, "workspace", "show")
		if !ws.MFARequired || !slices.Equal(ws.Targets, []string{"console"}) || !slices.Equal(ws.Factors, []string{"otp", "email"}) {
			t.Errorf("workspace show --json %+v", ws)
		}
		w, err := mfa.LoadWorkspace(t.Context(), db.store)
		if err != nil || !w.AppliesTo(true) || w.AppliesTo(false) {
			t.Errorf("stored policy %+v (%v): want MFA for the console only", w, err)
		}
		db.json(&ws, "workspace", "set", "--targets", "applications, console")
		if !slices.Equal(ws.Targets, []string{"applications", "console"}) || !ws.MFARequired {
			t.Errorf("after --targets applications,console: %+v", ws)
		}
		if rows := db.audit(mfa.EventWorkspacePolicyChanged); len(rows) != 2 || !strings.HasPrefix(rows[0].Actor, "cli") {
			t.Errorf("audit %+v", rows)
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--targets=api"}, `stepgate: --targets: unknown value "api"`},
			{[]string{"--targets="}, "stepgate: --targets: "},
			{[]string{"--factors=sms"}, `stepgate: --factors: unknown value "sms"`},
			{[]string{}, "give --mfa-required=on|off, --targets and/or --factors"},
		} {
			code, _, errs := db.run("", append([]string{"workspace", "set"}, c.args...)...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Errorf("workspace set %q: exit %d %s; want 2 and %q", c.args, code, errs, c.want)
			}
		}
		if rows := db.audit(mfa.EventWorkspacePolicyChanged); len(rows) != 2 {
			t.Errorf("a refused change was written: %d rows", len(rows))
		}
	})
}

// adminError, the one place admin's refusals become the command line's:
// which are usage errors, and how each reads.
func TestAdminErrorRendering(t *testing.T) {
	render := func(err error) (int, string) {
		var errs bytes.Buffer
		e := env{stdout: &errs, stderr: &errs, getenv: noEnvCmd}
		code := report(e, adminError(err))
		return code, errs.String()
	}
	for _, c := range []struct {
		name string
		err  error
		code int
		want string
	}{
		{"field errors, one line per flag", admin.FieldErrors{
			{Field: "redirect_uris", Reason: "at least one redirect URI is required"},
			{Field: "post_logout_redirect_uris", Reason: "post-logout redirect URI x"},
			{Field: "refresh_token_lifetime", Reason: "too long"},
			{Field: "mfa_max_age", Reason: "whole seconds"},
			{Field: "name", Reason: "is required"},
		}, 2, "stepgate: --redirect-uri: at least one redirect URI is required\n" +
			"stepgate: --post-logout-redirect-uri: post-logout redirect URI x\n" +
			"stepgate: --refresh-token-ttl: too long\nstepgate: --mfa-max-age: whole seconds\nstepgate: --name: is required\n"},
		{"one storage field error, wrapped", fmt.Errorf("create: %w", &storage.FieldError{Field: "token_format", Reason: "must be jwt or opaque"}),
			2, "stepgate: --token-format: must be jwt or opaque\n"},
		{"an application's last OTP", &admin.ConfirmationRequired{Field: "otp", Bindings: 3}, 1,
			"stepgate: no other application and not the workspace policy uses OTP: turning it off removes the " +
				"authenticator binding (and backup codes) of 3 user(s), irreversibly; run again with --confirm-remove-bindings to do so\n"},
		{"the workspace's last OTP", &admin.ConfirmationRequired{Field: "mfa_required", Bindings: 1}, 1,
			"stepgate: no application uses OTP: this change of the workspace policy removes the authenticator binding " +
				"(and backup codes) of 1 user(s), irreversibly; run again with --confirm-remove-bindings to do so\n"},
		{"not found", fmt.Errorf("show: %w", &admin.NotFoundError{What: "client", Ref: "x"}), 1, "stepgate: no client \"x\"\n"},
		{"conflict", &admin.ConflictError{Reason: "taken"}, 1, "stepgate: taken\n"},
		{"anything else", errors.New("database unavailable"), 1, "stepgate: database unavailable\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, out := render(c.err); code != c.code || out != c.want {
				t.Errorf("exit %d, %q\nwant %d, %q", code, out, c.code, c.want)
			}
		})
	}
	if adminError(nil) != nil {
		t.Error("adminError(nil) is not nil")
	}

	// StepGate's console client is refused by admin; the command line says
	// why and exits 1. (The CLI does not know a console client yet, so the
	// service is built here with one.)
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var console clientJSON
		db.json(&console, "client", "create", "--name", "Console", "--redirect-uri", "https://login.example/console/cb")
		svc := &admin.Service{Store: db.store, Now: func() time.Time { return cmdClock }, ConsoleClientID: console.ClientID}
		_, err := svc.DeleteClient(t.Context(), admin.CLI("alice"), admin.DeleteClientInput{ID: console.ClientID})
		code, out := render(err)
		if code != 1 || out != "stepgate: the console's own client cannot be deleted\n" {
			t.Errorf("deleting the console's client: exit %d %q", code, out)
		}
		db.ok("client", "show", console.ClientID)
	})
}

// adminService builds the service on the app's store with the command's
// clock, and the actor "cli:<os user>" as cliActor names it.
func TestAdminService(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		e := env{getenv: func(k string) string { return map[string]string{"USER": "carol"}[k] },
			now: func() time.Time { return cmdClock }}
		a := &app{store: db.store, master: mustMasterKey(t)}
		svc, actor := adminService(a, e)
		// The OS user where the system knows one, else $USER.
		want := "cli:carol"
		if me, err := user.Current(); err == nil && me.Username != "" {
			want = "cli:" + me.Username
		}
		if got := actor.String(); got != want {
			t.Errorf("actor %q, want %q", got, want)
		}
		if svc.Store != storage.Store(a.store) || svc.Hasher == nil || len(svc.CodeKey) == 0 {
			t.Errorf("service %+v", svc)
		}
		if got := svc.Now(); !got.Equal(cmdClock) {
			t.Errorf("clock %v, want env.now's %v", got, cmdClock)
		}
		if svc2, _ := adminService(a, env{getenv: noEnvCmd}); svc2.Now == nil ||
			time.Since(svc2.Now()) > time.Minute {
			t.Error("without env.now the service's clock is not the system's")
		}
	})
}

func noEnvCmd(string) string { return "" }

func mustMasterKey(t *testing.T) *keys.MasterKey {
	t.Helper()
	b := make([]byte, keys.MasterKeySize)
	rand.Read(b)
	k, err := keys.NewMasterKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
