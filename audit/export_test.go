package audit_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

func sampleEvents() []storage.AuditEvent {
	at := time.Date(2025, 5, 1, 14, 30, 5, 123_000_000, time.FixedZone("CEST", 2*3600))
	return []storage.AuditEvent{
		{ID: 2, At: at, Type: mfa.EventOTP, Actor: "cli:alice", UserID: "u1", Identifier: "alice@example.com", ClientID: "app",
			IP: "81.2.69.1", Country: "GB", UserAgent: "Mozilla/5.0, \"quoted\"", Result: storage.ResultFailure,
			Reason: mfa.ReasonReplayedCode, Detail: "line one\nline two"},
		{ID: 1, At: at.Add(-time.Hour), Type: mfa.EventPassword, Identifier: "=HYPERLINK(\"http://evil.test\",\"x\")",
			IP: "10.0.0.1", UserAgent: "@SUM(1+1)", Result: storage.ResultFailure, Reason: mfa.ReasonUnknownUser,
			Detail: "-2+3"},
	}
}

func TestWriteCSVParsesBackAndDefusesFormulas(t *testing.T) {
	var buf bytes.Buffer
	if err := audit.WriteCSV(&buf, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	if got := strings.Join(rows[0], ","); got != "time,type,type_label,actor,user_id,identifier,client_id,ip,country,user_agent,result,reason,detail" {
		t.Errorf("header %s", got)
	}
	want := []string{"2025-05-01T12:30:05Z", "mfa.otp.verify", "Secondary authentication - OTP", "cli:alice", "u1", "alice@example.com", "app", "81.2.69.1", "GB",
		"Mozilla/5.0, \"quoted\"", "failure", "replayed_code", "line one\nline two"}
	if strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Errorf("row 1\ngot  %q\nwant %q", rows[1], want)
	}
	for col, want := range map[int]string{
		5:  "'=HYPERLINK(\"http://evil.test\",\"x\")",
		9:  "'@SUM(1+1)",
		12: "'-2+3",
		0:  "2025-05-01T11:30:05Z",
		1:  "auth.password.verify",
		2:  "Primary authentication - Password",
		3:  "",
	} {
		if rows[2][col] != want {
			t.Errorf("row 2 %s = %q, want %q", rows[0][col], rows[2][col], want)
		}
	}
}

func TestWriteCSVWithNoEventsIsJustTheHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := audit.WriteCSV(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if buf.String() != strings.Join(audit.CSVHeader, ",")+"\n" {
		t.Errorf("%q", buf.String())
	}
}

func TestWriteJSONUsesSnakeCaseKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := audit.WriteJSON(&buf, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d objects", len(got))
	}
	want := map[string]any{"id": 2.0, "time": "2025-05-01T12:30:05.123Z", "type": "mfa.otp.verify",
		"type_label": "Secondary authentication - OTP", "actor": "cli:alice", "user_id": "u1",
		"identifier": "alice@example.com", "client_id": "app", "ip": "81.2.69.1", "country": "GB",
		"user_agent": "Mozilla/5.0, \"quoted\"", "result": "failure", "reason": "replayed_code", "detail": "line one\nline two"}
	if len(got[0]) != len(want) {
		t.Errorf("keys %v", got[0])
	}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("%s = %v, want %v", k, got[0][k], v)
		}
	}
	if got[1]["user_id"] != "" || got[1]["client_id"] != "" || got[1]["actor"] != "" {
		t.Errorf("empty fields should be present and empty: %v", got[1])
	}

	buf.Reset()
	audit.WriteJSON(&buf, nil)
	if strings.TrimSpace(buf.String()) != "[]" {
		t.Errorf("no events: %q", buf.String())
	}
}

func TestWriteTableAlignsAndNeutralisesControlCharacters(t *testing.T) {
	events := sampleEvents()
	events[0].Detail = "tab\there\x1b[31m red"
	var buf bytes.Buffer
	if err := audit.WriteTable(&buf, events); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "TIME ") || !strings.Contains(lines[0], "DETAIL") {
		t.Errorf("header %q", lines[0])
	}
	col := strings.Index(lines[0], "RESULT")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l[col:], "failure") {
			t.Errorf("RESULT column not aligned in %q", l)
		}
	}
	if strings.ContainsAny(out, "\x1b\t") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if !strings.Contains(lines[0], " TYPE ") || !strings.Contains(lines[0], " LABEL ") || !strings.Contains(lines[0], " ACTOR ") {
		t.Errorf("header %q", lines[0])
	}
	for _, want := range []string{"mfa.otp.verify", "Secondary authentication - OTP", "cli:alice"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
	if !strings.Contains(lines[1], "tab here[31m red") || !strings.Contains(lines[1], "2025-05-01T12:30:05Z") {
		t.Errorf("row %q", lines[1])
	}
	if !strings.Contains(lines[2], " - ") { // no user, no client
		t.Errorf("empty cells not shown as -: %q", lines[2])
	}
	if strings.Contains(out, "Mozilla") {
		t.Errorf("user agent in the table: %q", out)
	}
}

// A row written by a newer version, with a code this one does not know,
// shows its code as its label rather than nothing.
func TestExportsLabelAnUnknownCodeWithTheCode(t *testing.T) {
	events := []storage.AuditEvent{{ID: 1, Type: "admin.user.fly_away", Result: storage.ResultSuccess}}
	var buf bytes.Buffer
	if err := audit.WriteJSON(&buf, events); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0]["type"] != "admin.user.fly_away" || got[0]["type_label"] != "admin.user.fly_away" {
		t.Errorf("%v", got[0])
	}
}
