package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// An EventWriter writes audit events one at a time, for an export that
// streams a filtered set of any size. Close ends the document (the JSON
// array, the CSV's buffer) and must be called once, also after no events.
type EventWriter interface {
	Write(e *storage.AuditEvent) error
	Close() error
}

// NewCSVWriter writes what WriteCSV writes, an event at a time: CSVHeader
// first (also for no events), formulas defused.
func NewCSVWriter(w io.Writer) EventWriter { return &csvEvents{w: csv.NewWriter(w)} }

type csvEvents struct {
	w      *csv.Writer
	headed bool
}

func (c *csvEvents) head() error {
	if c.headed {
		return nil
	}
	c.headed = true
	return c.w.Write(CSVHeader)
}

func (c *csvEvents) Write(e *storage.AuditEvent) error {
	if err := c.head(); err != nil {
		return err
	}
	row := []string{formatTime(e.At, time.RFC3339), e.Type, mfa.EventLabel(e.Type), e.Actor, e.UserID, e.Identifier,
		e.ClientID, e.IP, e.Country, e.UserAgent, e.Result, e.Reason, e.Detail}
	for i := range row {
		row[i] = defuseFormula(row[i])
	}
	return c.w.Write(row)
}

func (c *csvEvents) Close() error {
	if err := c.head(); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// NewJSONWriter writes what WriteJSON writes, byte for byte, an event at a
// time: one array of objects with snake_case keys, [] for no events.
func NewJSONWriter(w io.Writer) EventWriter { return &jsonEvents{w: w} }

type jsonEvents struct {
	w   io.Writer
	n   int
	buf bytes.Buffer
}

func toJSONEvent(e *storage.AuditEvent) jsonEvent {
	return jsonEvent{ID: e.ID, Time: formatTime(e.At, time.RFC3339Nano), Type: e.Type,
		TypeLabel: mfa.EventLabel(e.Type), Actor: e.Actor, UserID: e.UserID,
		Identifier: e.Identifier, ClientID: e.ClientID, IP: e.IP, Country: e.Country,
		UserAgent: e.UserAgent, Result: e.Result, Reason: e.Reason, Detail: e.Detail}
}

// Write emits the object as an element of an array indented by two
// spaces, as json.Encoder with SetIndent("", "  ") lays out the whole array.
func (j *jsonEvents) Write(e *storage.AuditEvent) error {
	j.buf.Reset()
	if j.n == 0 {
		j.buf.WriteString("[\n  ")
	} else {
		j.buf.WriteString(",\n  ")
	}
	enc := json.NewEncoder(&j.buf)
	enc.SetEscapeHTML(false) // user agents are read, not embedded in HTML
	enc.SetIndent("  ", "  ")
	if err := enc.Encode(toJSONEvent(e)); err != nil {
		return err
	}
	j.buf.Truncate(j.buf.Len() - 1) // Encode's newline; the separator or the end follows
	j.n++
	_, err := j.w.Write(j.buf.Bytes())
	return err
}

func (j *jsonEvents) Close() error {
	end := "\n]\n"
	if j.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(j.w, end)
	return err
}
