package cli

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// cliDB is a fresh, migrated database that user and audit commands run
// against in process, on a clock the test moves, with the store itself at
// hand for what no command makes (a bound authenticator, a lock, a session).
type cliDB struct {
	t     *testing.T
	url   string
	key   string // STEPGATE_MASTER_KEY
	clock *clock.Fake
	st    *sqlstore.Store
}

// onCLIEngines runs fn on a fresh, migrated database of each engine.
func onCLIEngines(t *testing.T, fn func(t *testing.T, db *cliDB)) {
	onFreshDBs(t, func(t *testing.T, f freshDB) {
		fn(t, &cliDB{t: t, url: f.url, key: f.key, clock: &clock.Fake{}, st: f.store})
	})
}

// run runs one command line and returns its exit code and streams.
func (db *cliDB) run(stdin string, args ...string) (code int, stdout, stderr string) {
	db.t.Helper()
	return runCommand(masterKeyEnv(db.key), db.clock.Now, stdin, append(slices.Clone(args), "--database", db.url)...)
}

// ok runs a command that must succeed and returns its standard output.
func (db *cliDB) ok(stdin string, args ...string) string {
	db.t.Helper()
	code, out, errs := db.run(stdin, args...)
	if code != 0 {
		db.t.Fatalf("stepgate %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// fails runs a command that must exit with code, print nothing on standard
// output and say each of want on standard error.
func (db *cliDB) fails(code int, want []string, args ...string) {
	db.t.Helper()
	got, out, errs := db.run("a long password\n", args...)
	if got != code || out != "" {
		db.t.Errorf("stepgate %s: exit %d, stdout %q, stderr %q; want exit %d and only an error",
			strings.Join(args, " "), got, out, errs, code)
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			db.t.Errorf("stepgate %s: stderr %q does not say %q", strings.Join(args, " "), errs, w)
		}
	}
}

func (db *cliDB) jsonOf(v any, args ...string) {
	db.t.Helper()
	out := db.ok("", append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		db.t.Fatalf("stepgate %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// user creates a user with the CLI and returns their ID.
func (db *cliDB) user(email string, args ...string) string {
	db.t.Helper()
	var u admin.User
	out := db.ok("a long password\n", append([]string{"user", "create", "--email", email, "--password-stdin", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.ID == "" {
		db.t.Fatalf("user create --json: %q (%v)", out, err)
	}
	return u.ID
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// bindTOTP gives the user a confirmed authenticator binding, as a login's
// setup does.
func (db *cliDB) bindTOTP(userID string) {
	db.t.Helper()
	ctx, now := context.Background(), db.clock.Now()
	b := &storage.FactorBinding{ID: randomHex(db.t), UserID: userID, Kind: storage.FactorTOTP, SealedSecret: []byte("sealed"),
		CreatedAt: now}
	if err := db.st.PutPendingFactor(ctx, b); err != nil {
		db.t.Fatal(err)
	}
	if err := db.st.ConfirmFactor(ctx, b.ID, now, 1); err != nil {
		db.t.Fatal(err)
	}
}

// session opens an SSO session for the user, as a login does, and returns
// its public ID.
func (db *cliDB) session(userID string) string {
	db.t.Helper()
	now := db.clock.Now()
	hash := randomHex(db.t)
	if err := db.st.CreateSession(context.Background(), &storage.Session{IDHash: hash, UserID: userID, CreatedAt: now,
		LastSeenAt: now, ExpiresAt: now.Add(time.Hour), Factors: []storage.FactorRecord{{Method: "pwd", At: now}}}); err != nil {
		db.t.Fatal(err)
	}
	return storage.SessionID(hash)
}

// lockPassword locks the user's password sign-in for an hour from now.
func (db *cliDB) lockPassword(userID string) time.Time {
	db.t.Helper()
	st, err := db.st.ReservePasswordAttempt(context.Background(), userID, db.clock.Now(), storage.Lockout{Threshold: 1, Duration: time.Hour})
	if err != nil || st.LockedUntil.IsZero() {
		db.t.Fatalf("lock: %v %+v", err, st)
	}
	return st.LockedUntil
}

// auditCount is how many rows of the event type the audit trail has.
func (db *cliDB) auditCount(typ string) int {
	db.t.Helper()
	var rows []map[string]any
	db.jsonOf(&rows, "audit", "list", "--type", typ)
	return len(rows)
}

func emailsOf(l admin.UserList) []string {
	var out []string
	for _, u := range l.Users {
		out = append(out, u.Email)
	}
	return out
}

func TestUserShowCommandShowsFactorsCodesLocksAndSessions(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		id := db.user("ada@example.com", "--name", "Ada")
		db.bindTOTP(id)
		db.ok("", "user", "backup-codes", "regenerate", "ada@example.com")
		until := db.lockPassword(id)
		sid := db.session(id)

		out := db.ok("", "user", "show", "ada@example.com")
		for _, want := range []string{id, "Ada", "member", "active", "mfa bypass", "off",
			"locked until " + until.UTC().Format(time.RFC3339) + " (1 failure(s))", "not locked (0 failure(s))",
			"totp: bound ", "last used never", "10 left", "1 live", sid, "pwd"} {
			if !strings.Contains(out, want) {
				t.Errorf("user show lacks %q:\n%s", want, out)
			}
		}

		var d admin.UserDetail
		db.jsonOf(&d, "user", "show", id) // by ID too
		if d.Email != "ada@example.com" || len(d.Factors) != 1 || d.Factors[0].BoundAt == nil || d.Factors[0].Pending ||
			d.BackupCodesLeft != 10 || !d.Locked || d.PasswordLockedUntil == nil || len(d.Sessions) != 1 || d.Sessions[0].ID != sid {
			t.Errorf("user show --json = %+v", d)
		}

		// On the command's clock, the lock is over an hour later.
		db.clock.Advance(2 * time.Hour)
		if out := db.ok("", "user", "show", id); !strings.Contains(out, "password lock") || strings.Contains(out, "locked until") {
			t.Errorf("user show after the lock ended:\n%s", out)
		}
		db.fails(1, []string{`no user "nobody@example.com"`}, "user", "show", "nobody@example.com")
	})
}

func TestUserEnableCommandAndNoChangeWritesNoRow(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		id := db.user("ada@example.com")
		db.session(id)
		if out := db.ok("", "user", "disable", "ada@example.com"); !strings.Contains(out, "user ada@example.com disabled; 1 session(s) ended") {
			t.Errorf("disable: %s", out)
		}
		var ch struct {
			admin.User
			Changed       bool `json:"changed"`
			SessionsEnded int  `json:"sessions_ended"`
		}
		db.jsonOf(&ch, "user", "enable", id)
		if ch.ID != id || ch.Disabled || !ch.Changed {
			t.Errorf("enable --json = %+v", ch)
		}
		if out := db.ok("", "user", "enable", id); !strings.Contains(out, "is not disabled; nothing changed") {
			t.Errorf("enable again: %s", out)
		}
		if out := db.ok("", "user", "unlock", id); !strings.Contains(out, "nothing changed") {
			t.Errorf("unlock of a user who is not locked: %s", out)
		}
		if n := db.auditCount(mfa.EventUserEnabled); n != 1 {
			t.Errorf("%d enable rows, want 1 (the second enable changed nothing)", n)
		}
		if n := db.auditCount(mfa.EventAccountUnlocked); n != 0 {
			t.Errorf("%d unlock rows for a user who was not locked", n)
		}
		db.lockPassword(id)
		if out := db.ok("", "user", "unlock", id); !strings.Contains(out, "unlocked") {
			t.Errorf("unlock: %s", out)
		}
		var l admin.UserList
		if db.jsonOf(&l, "user", "list", "--locked"); len(l.Users) != 0 || db.auditCount(mfa.EventAccountUnlocked) != 1 {
			t.Errorf("after unlock: locked %v, rows %d", emailsOf(l), db.auditCount(mfa.EventAccountUnlocked))
		}
	})
}

func TestUserResetOTPCommandRemovesBindingAndCodesAtOnce(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		id := db.user("ada@example.com")
		db.bindTOTP(id)
		db.ok("", "user", "backup-codes", "regenerate", id)
		db.session(id)
		out := db.ok("", "user", "reset-otp", "ada@example.com")
		if !strings.Contains(out, "authenticator binding removed, 10 backup code(s) removed") || !strings.Contains(out, "1 session(s) ended") {
			t.Errorf("reset-otp: %s", out)
		}
		var d admin.UserDetail
		if db.jsonOf(&d, "user", "show", id); len(d.Factors) != 0 || d.BackupCodesLeft != 0 || len(d.Sessions) != 0 {
			t.Errorf("after reset-otp: %+v", d)
		}
		var r struct {
			Changed            bool `json:"changed"`
			BindingRemoved     bool `json:"binding_removed"`
			BackupCodesRemoved int  `json:"backup_codes_removed"`
		}
		if db.jsonOf(&r, "user", "reset-otp", id); r.Changed || r.BindingRemoved || r.BackupCodesRemoved != 0 {
			t.Errorf("reset-otp again --json = %+v", r)
		}
		if n := db.auditCount(mfa.EventUserOTPReset); n != 1 {
			t.Errorf("%d reset rows", n)
		}
	})
}

func TestUserSetRoleCommandHandsOwnershipOver(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		db.user("owner@example.com", "--role", "owner")
		ada := db.user("ada@example.com")
		if out := db.ok("", "user", "set-role", "ada@example.com", "--role", "admin"); !strings.Contains(out, "user ada@example.com is now admin") {
			t.Errorf("set-role admin: %s", out)
		}
		if out := db.ok("", "user", "set-role", "--role=admin", ada); !strings.Contains(out, "is admin already; nothing changed") {
			t.Errorf("set-role admin again: %s", out)
		}
		db.fails(1, []string{"owner@example.com is the owner; to hand ownership over, make another user owner"},
			"user", "set-role", "owner@example.com", "--role", "member")
		db.fails(2, []string{"--role: must be owner, admin or member"}, "user", "set-role", ada, "--role", "boss")
		db.fails(2, []string{"--role"}, "user", "set-role", ada)

		db.session(db.user("x@example.com"))
		db.ok("", "user", "set-role", "x@example.com", "--role", "owner")
		db.ok("", "user", "set-role", "ada@example.com", "--role", "owner") // x hands it to Ada
		var l admin.UserList
		db.jsonOf(&l, "user", "list", "--role", "owner")
		if got := emailsOf(l); !slices.Equal(got, []string{"ada@example.com"}) {
			t.Errorf("owners after the hand-over: %v", got)
		}
		db.jsonOf(&l, "user", "list", "--role", "admin")
		if got := emailsOf(l); !slices.Equal(got, []string{"owner@example.com", "x@example.com"}) {
			t.Errorf("admins after the hand-over: %v", got)
		}
		var d admin.UserDetail
		if db.jsonOf(&d, "user", "show", "x@example.com"); len(d.Sessions) != 0 {
			t.Errorf("the former owner's sessions were not ended: %+v", d.Sessions)
		}
	})
}

func TestUserEndSessionsCommand(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		id := db.user("ada@example.com")
		one, two := db.session(id), db.session(id)
		if out := db.ok("", "user", "end-sessions", id, "--session", one); !strings.Contains(out, "is signed out; 1 session(s) ended") {
			t.Errorf("end-sessions --session: %s", out)
		}
		var d admin.UserDetail
		if db.jsonOf(&d, "user", "show", id); len(d.Sessions) != 1 || d.Sessions[0].ID != two {
			t.Errorf("after ending one: %+v", d.Sessions)
		}
		db.fails(1, []string{`no session "` + one + `"`}, "user", "end-sessions", id, "--session", one)
		db.session(id)
		if out := db.ok("", "user", "end-sessions", "ada@example.com"); !strings.Contains(out, "2 session(s) ended") {
			t.Errorf("end-sessions: %s", out)
		}
		if out := db.ok("", "user", "end-sessions", id); !strings.Contains(out, "has no live session; nothing changed") {
			t.Errorf("end-sessions again: %s", out)
		}
		if n := db.auditCount(mfa.EventUserSessionsEnded); n != 2 {
			t.Errorf("%d end_sessions rows, want 2", n)
		}
	})
}

func TestUserListFiltersAndCursor(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		bound := db.user("bound@example.com", "--name", "Bea Bound")
		db.bindTOTP(bound)
		locked := db.user("locked@example.com")
		until := db.lockPassword(locked)
		db.user("bypass@example.com")
		db.ok("", "user", "set-mfa-bypass", "bypass@example.com", "--on")
		db.user("disabled@example.com")
		db.ok("", "user", "disable", "disabled@example.com")
		db.user("admin@example.com", "--role", "admin")

		for _, tc := range []struct {
			flags []string
			want  []string
		}{
			{nil, []string{"admin@example.com", "bound@example.com", "bypass@example.com", "disabled@example.com", "locked@example.com"}},
			{[]string{"--bound"}, []string{"bound@example.com"}},
			{[]string{"--unbound"}, []string{"admin@example.com", "bypass@example.com", "disabled@example.com", "locked@example.com"}},
			{[]string{"--locked"}, []string{"locked@example.com"}},
			{[]string{"--bypass"}, []string{"bypass@example.com"}},
			{[]string{"--disabled"}, []string{"disabled@example.com"}},
			{[]string{"--role", "admin"}, []string{"admin@example.com"}},
			{[]string{"--search", "BEA"}, []string{"bound@example.com"}},
			{[]string{"--search", "by"}, []string{"bypass@example.com"}},
			{[]string{"--unbound", "--role", "member", "--search", "ed@"}, []string{"disabled@example.com", "locked@example.com"}},
		} {
			var l admin.UserList
			db.jsonOf(&l, append([]string{"user", "list"}, tc.flags...)...)
			if got := emailsOf(l); !slices.Equal(got, tc.want) || l.Total != int64(len(tc.want)) || l.NextCursor != "" {
				t.Errorf("user list %v: %v (total %d, cursor %q); want %v", tc.flags, got, l.Total, l.NextCursor, tc.want)
			}
		}

		table := db.ok("", "user", "list")
		for _, want := range []string{"OTP", "LOCKED", "bound", "until " + until.UTC().Format(time.RFC3339), "5 of 5 user(s)"} {
			if !strings.Contains(table, want) {
				t.Errorf("user list lacks %q:\n%s", want, table)
			}
		}
		if strings.Contains(table, "next page") {
			t.Errorf("one page printed a cursor:\n%s", table)
		}

		// Two at a time: the pages follow each other and end.
		cursorLine := regexp.MustCompile(`(?m)^next page: --cursor (\S+)$`)
		var seen []string
		var args []string
		for page := 0; ; page++ {
			out := db.ok("", append([]string{"user", "list", "--limit", "2"}, args...)...)
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) > 1 && strings.Contains(f[1], "@") {
					seen = append(seen, f[1])
				}
			}
			m := cursorLine.FindStringSubmatch(out)
			if m == nil {
				break
			}
			if page > 3 {
				t.Fatalf("no last page:\n%s", out)
			}
			var l admin.UserList
			if db.jsonOf(&l, append([]string{"user", "list", "--limit", "2"}, args...)...); l.NextCursor != m[1] || len(l.Users) != 2 {
				t.Errorf("--json page: cursor %q, %d users; the table said %q", l.NextCursor, len(l.Users), m[1])
			}
			args = []string{"--cursor", m[1]}
		}
		if want := []string{"admin@example.com", "bound@example.com", "bypass@example.com", "disabled@example.com",
			"locked@example.com"}; !slices.Equal(seen, want) {
			t.Errorf("pages of 2 showed %v, want %v", seen, want)
		}

		// Locked is judged on the command's clock.
		db.clock.Advance(2 * time.Hour)
		var l admin.UserList
		if db.jsonOf(&l, "user", "list", "--locked"); len(l.Users) != 0 {
			t.Errorf("locked two hours later: %v", emailsOf(l))
		}

		db.fails(2, []string{"--cursor:"}, "user", "list", "--cursor", "not-a-cursor")
		db.fails(2, []string{"--limit: must be between 1 and 500"}, "user", "list", "--limit", "501")
		db.fails(2, []string{"--role: must be owner, admin or member"}, "user", "list", "--role", "boss")
		db.fails(2, []string{"--bound", "--unbound"}, "user", "list", "--bound", "--unbound")
	})
}

// A mistake in what a command was given is a usage error naming the flag
// (or the argument), exit 2; a missing user or a rule the change breaks is
// a failure in the admin core's words, exit 1. Nothing is printed on
// standard output either way.
func TestUserCommandErrorsNameTheFlag(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		db.user("owner@example.com", "--role", "owner")
		create := func(email string, extra ...string) []string {
			return append([]string{"user", "create", "--email", email, "--password-stdin"}, extra...)
		}
		db.fails(2, []string{"--email: must be an email address such as ada@example.com"}, create("not-an-email")...)
		db.fails(2, []string{"--email: is required"}, "user", "create", "--password-stdin")
		db.fails(2, []string{"--email: must be an email", "--role: must be owner, admin or member"}, create("x", "--role", "boss")...)
		if code, out, errs := db.run("short\n", create("ada@example.com")...); code != 2 || out != "" ||
			!strings.Contains(errs, "--password-stdin: must have at least 8 characters") {
			t.Errorf("a short password: exit %d, %q %q", code, out, errs)
		}
		db.fails(2, []string{"give the password on standard input with --password-stdin"}, "user", "create", "--email", "a@example.com")
		db.fails(1, []string{"a user with that email already exists"}, create("OWNER@example.com")...)
		db.fails(1, []string{"owner@example.com is the owner and there can be only one"}, create("two@example.com", "--role", "owner")...)
		db.fails(1, []string{"owner@example.com is the owner, who cannot be disabled"}, "user", "disable", "owner@example.com")
		db.fails(1, []string{`no user "nobody@example.com"`}, "user", "disable", "nobody@example.com")
		db.fails(2, []string{"<email-or-id>: is required"}, "user", "enable", "")
		db.fails(2, []string{"<email-or-id>: is required", "--role: must be"}, "user", "set-role", " ", "--role", "boss")
		db.fails(2, []string{"<email-or-id>: is longer than 320 characters"}, "user", "show", strings.Repeat("a", 321))
		if code, out, errs := db.run("short\n", "user", "set-password", "owner@example.com", "--password-stdin"); code != 2 ||
			out != "" || !strings.Contains(errs, "--password-stdin: must have at least 8 characters") {
			t.Errorf("set-password with a short one: exit %d, %q %q", code, out, errs)
		}
	})
}

func TestAuditListCommandFiltersPagesAndStreams(t *testing.T) {
	onCLIEngines(t, func(t *testing.T, db *cliDB) {
		ctx := context.Background()
		t0 := db.clock.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
		for i, e := range []storage.AuditEvent{
			{Type: mfa.EventPassword, ClientID: "app-a", IP: "81.2.69.160", Country: "GB", Result: storage.ResultFailure, Reason: mfa.ReasonWrongPassword},
			{Type: mfa.EventOTP, ClientID: "app-b", IP: "2001:db8::1", Country: "FR", Result: storage.ResultSuccess},
			{Type: mfa.EventOTP, ClientID: "app-a", IP: "81.2.69.160", Country: "GB", Result: storage.ResultSuccess},
		} {
			e.At = t0.Add(time.Duration(i) * time.Hour) // 3h, 2h and 1h ago
			if err := db.st.AppendAudit(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		types := func(rows []map[string]any) []string {
			var out []string
			for _, r := range rows {
				out = append(out, r["type"].(string)+"@"+r["client_id"].(string))
			}
			return out
		}
		for _, tc := range []struct {
			flags []string
			want  []string
		}{
			{nil, []string{"mfa.otp.verify@app-a", "mfa.otp.verify@app-b", "auth.password.verify@app-a"}},
			{[]string{"--client", "app-a"}, []string{"mfa.otp.verify@app-a", "auth.password.verify@app-a"}},
			{[]string{"--ip", "2001:0db8:0:0::1"}, []string{"mfa.otp.verify@app-b"}},
			{[]string{"--country", "gb", "--result", "success"}, []string{"mfa.otp.verify@app-a"}},
			{[]string{"--until", "150m"}, []string{"auth.password.verify@app-a"}},
			{[]string{"--since", "150m"}, []string{"mfa.otp.verify@app-a", "mfa.otp.verify@app-b"}},
			{[]string{"--since", t0.Add(time.Hour).Format(time.RFC3339), "--until", t0.Add(2 * time.Hour).Format(time.RFC3339)},
				[]string{"mfa.otp.verify@app-b"}},
			{[]string{"--type", "auth.password.verify,mfa.otp.verify", "--client", "app-b"}, []string{"mfa.otp.verify@app-b"}},
			{[]string{"--limit", "2"}, []string{"mfa.otp.verify@app-a", "mfa.otp.verify@app-b"}},
		} {
			var rows []map[string]any
			db.jsonOf(&rows, append([]string{"audit", "list"}, tc.flags...)...)
			if got := types(rows); !slices.Equal(got, tc.want) {
				t.Errorf("audit list %v --json: %v, want %v", tc.flags, got, tc.want)
			}
		}

		// The table is a page that ends with the cursor of the next; the
		// export starts there.
		out := db.ok("", "audit", "list", "--limit", "1", "--client", "app-a")
		m := regexp.MustCompile(`(?m)^next page: --cursor (\S+)$`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "mfa.otp.verify") || strings.Contains(out, "auth.password.verify") {
			t.Fatalf("audit list --limit 1:\n%s", out)
		}
		out = db.ok("", "audit", "list", "--client", "app-a", "--cursor", m[1], "--csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][1] != mfa.EventPassword {
			t.Errorf("audit list --cursor --csv: %v %q", err, recs)
		}
		if out := db.ok("", "audit", "list", "--client", "app-a", "--cursor", m[1]); strings.Contains(out, "next page") ||
			!strings.Contains(out, "auth.password.verify") {
			t.Errorf("the last page:\n%s", out)
		}

		db.fails(2, []string{`--type: unknown event type "Account unlocked"; the types are`, "mfa.otp.verify"},
			"audit", "list", "--type", "Account unlocked")
		db.fails(2, []string{"--ip: must be an IPv4 or IPv6 address"}, "audit", "list", "--ip", "localhost", "--csv")
		db.fails(2, []string{"--country: must be a two-letter country code"}, "audit", "list", "--country", "GBR")
		db.fails(2, []string{"--until: must be after since"}, "audit", "list", "--since", "1h", "--until", "2h", "--json")
		db.fails(2, []string{`--since "soon": want an RFC 3339 time`}, "audit", "list", "--since", "soon")
		db.fails(2, []string{"--cursor:"}, "audit", "list", "--cursor", "nope")
		db.fails(1, []string{`no user "nobody@example.com"`}, "audit", "list", "--user", "nobody@example.com")
	})
}
