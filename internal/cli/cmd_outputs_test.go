package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A comma is part of a URI: --redirect-uri registers exactly what was
// typed, one URI per flag, never a second one cut out of a query.
func TestRedirectURIsAreNeverSplitOnCommas(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var c clientJSON
		db.json(&c, "client", "create", "--name", "Commas", "--redirect-uri", "https://app.example/cb?r=https://x.example/a,https://other.example/cb",
			"--redirect-uri", "https://app.example/two")
		want := []string{"https://app.example/cb?r=https://x.example/a,https://other.example/cb", "https://app.example/two"}
		if strings.Join(c.RedirectURIs, " ") != strings.Join(want, " ") {
			t.Fatalf("registered %q, want %q", c.RedirectURIs, want)
		}
		db.json(&c, "client", "update", c.ClientID, "--redirect-uri", "https://app.example/cb?a=1,2")
		if len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "https://app.example/cb?a=1,2" {
			t.Fatalf("updated to %q", c.RedirectURIs)
		}
	})
}

// With --json, a script learns what turning OTP off did to the bindings,
// as the text output says it.
func TestOTPOffJSONSaysWhatHappenedToTheBindings(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		var a, b clientJSON
		db.json(&a, "client", "create", "--name", "A", "--redirect-uri", "https://a.example/cb")
		db.json(&b, "client", "create", "--name", "B", "--redirect-uri", "https://b.example/cb")
		db.ok("client", "set-factors", a.ClientID, "--otp=on")
		db.ok("client", "set-factors", b.ClientID, "--otp=on")
		db.seedOTPUser("u1")
		var out struct {
			ClientID        string   `json:"client_id"`
			RemovedBindings int64    `json:"removed_bindings"`
			OTPKeptBy       []string `json:"otp_kept_by"`
		}
		db.json(&out, "client", "set-factors", a.ClientID, "--otp=off", "--json")
		if out.ClientID != a.ClientID || out.RemovedBindings != 0 || len(out.OTPKeptBy) != 1 || !strings.Contains(out.OTPKeptBy[0], b.ClientID) {
			t.Fatalf("first OTP off: %+v", out)
		}
		out.OTPKeptBy = nil
		db.json(&out, "client", "set-factors", b.ClientID, "--otp=off", "--confirm-remove-bindings", "--json")
		if out.RemovedBindings != 1 || len(out.OTPKeptBy) != 0 {
			t.Fatalf("last OTP off: %+v", out)
		}
	})
}

// When the database fails a command, the message is one fixed sentence;
// the driver's words go to the log line before it.
func TestDatabaseFailuresKeepDriverTextOutOfTheMessage(t *testing.T) {
	dir := t.TempDir()
	key := strings.Repeat("A", 43) + "="
	db := &cmdDB{t: t, args: []string{"--data-dir", dir, "--database", "postgres://nobody@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"},
		getenv: func(k string) string {
			if k == "STEPGATE_MASTER_KEY" {
				return key
			}
			return ""
		}}
	code, stdout, stderr := db.run("", "user", "list", "--log-format", "json")
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if last != "stepgate: "+errDatabase.Error() {
		t.Errorf("the message is %q, want the fixed sentence", last)
	}
	var logged map[string]any
	if len(lines) < 2 || json.Unmarshal([]byte(lines[len(lines)-2]), &logged) != nil || !strings.Contains(logged["err"].(string), "127.0.0.1:1") {
		t.Errorf("the cause is not in the log line before it:\n%s", stderr)
	}
}

// keys rotate stamps the new key with the command's clock, as the server
// that will sign with it reads it.
func TestKeysRotateReadsTheCommandsClock(t *testing.T) {
	cmdEngines(t, func(t *testing.T, db *cmdDB) {
		// It signs from the rotation delay (a day by default) after now.
		out := db.ok("keys", "rotate")
		if want := cmdClock.Add(24 * time.Hour).Format(time.RFC3339); !strings.Contains(out, "signs from "+want) {
			t.Errorf("keys rotate: %q, want it to sign from %s (the command clock's now plus a day)", out, want)
		}
	})
}
