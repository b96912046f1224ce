package audit

import (
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// CSVHeader is the first row WriteCSV writes. type is the event's code
// (mfa.otp.verify), type_label what people read ("Secondary authentication -
// OTP"), actor who acted (empty: the user themselves).
var CSVHeader = []string{"time", "type", "type_label", "actor", "user_id", "identifier", "client_id", "ip", "country",
	"user_agent", "result", "reason", "detail"}

// WriteCSV writes events as CSV (RFC 4180) with CSVHeader and times in
// RFC 3339 UTC. Spreadsheets run a cell that starts with = + - @ (or a tab
// or carriage return) as a formula, and identifiers and user agents are the
// attacker's to choose, so such cells are prefixed with a single quote.
func WriteCSV(w io.Writer, events []storage.AuditEvent) error {
	return writeAll(NewCSVWriter(w), events)
}

// writeAll writes events with ew and closes it.
func writeAll(ew EventWriter, events []storage.AuditEvent) error {
	for i := range events {
		if err := ew.Write(&events[i]); err != nil {
			return err
		}
	}
	return ew.Close()
}

func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// jsonEvent fixes the JSON names, independent of the Go field names.
type jsonEvent struct {
	ID         int64  `json:"id"`
	Time       string `json:"time"`
	Type       string `json:"type"`
	TypeLabel  string `json:"type_label"`
	Actor      string `json:"actor"`
	UserID     string `json:"user_id"`
	Identifier string `json:"identifier"`
	ClientID   string `json:"client_id"`
	IP         string `json:"ip"`
	Country    string `json:"country"`
	UserAgent  string `json:"user_agent"`
	Result     string `json:"result"`
	Reason     string `json:"reason"`
	Detail     string `json:"detail"`
}

// WriteJSON writes events as one JSON array of objects with snake_case
// keys (type is the code, type_label its label, as in CSVHeader), every key present, times in RFC 3339 UTC with fractional seconds.
// No events is [], not null.
func WriteJSON(w io.Writer, events []storage.AuditEvent) error {
	return writeAll(NewJSONWriter(w), events)
}

// WriteTable writes events as aligned columns for a terminal. It leaves out
// the user agent (too long to align; see WriteCSV or WriteJSON), shows "-"
// for an empty cell, and replaces control characters so a stored value
// cannot move the cursor or break the alignment.
func WriteTable(w io.Writer, events []storage.AuditEvent) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	io.WriteString(tw, "TIME\tTYPE\tLABEL\tACTOR\tRESULT\tREASON\tIDENTIFIER\tUSER\tCLIENT\tIP\tCOUNTRY\tDETAIL\n")
	for _, e := range events {
		cells := []string{formatTime(e.At, time.RFC3339), e.Type, mfa.EventLabel(e.Type), e.Actor, e.Result, e.Reason, e.Identifier, e.UserID,
			e.ClientID, e.IP, e.Country, e.Detail}
		for i, c := range cells {
			cells[i] = tableCell(c)
		}
		if _, err := io.WriteString(tw, strings.Join(cells, "\t")+"\n"); err != nil {
			return err
		}
	}
	return tw.Flush()
}

var whitespaceToSpace = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

func tableCell(s string) string {
	s = clean(whitespaceToSpace.Replace(s), len(s))
	if s == "" {
		return "-"
	}
	return s
}

func formatTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}
