package admin

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/stepgate/stepgate/audit"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// AuditQueryInput selects audit events; zero fields match everything.
type AuditQueryInput struct {
	// User is a user ID, taken as given (rows outlive accounts), or an
	// email, which must name an existing user.
	User     string    `json:"user,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
	Types    []string  `json:"types,omitempty"`  // event codes (mfa.EventCodes); any of them
	Result   string    `json:"result,omitempty"` // success or failure
	Since    time.Time `json:"since,omitzero"`   // at or after
	Until    time.Time `json:"until,omitzero"`   // before
	IP       string    `json:"ip,omitempty"`
	Country  string    `json:"country,omitempty"` // two letters, ISO 3166-1
	Cursor   string    `json:"cursor,omitempty"`  // the NextCursor of the previous page
	// Limit is the page size for QueryAudit (0: storage.DefaultPageSize,
	// at most storage.MaxPageSize) and the most events ExportAudit writes
	// (0: all).
	Limit int `json:"limit,omitempty"`
}

// AuditEvent is one audit row as the doors show it: the code and the label
// people read, and who acted.
type AuditEvent struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Type       string    `json:"type"`
	TypeLabel  string    `json:"type_label"`
	Actor      string    `json:"actor"` // "" the user themselves; "cli:alice", "user:<id>", "api:<id>"
	UserID     string    `json:"user_id"`
	Identifier string    `json:"identifier"`
	ClientID   string    `json:"client_id"`
	IP         string    `json:"ip"`
	Country    string    `json:"country"`
	UserAgent  string    `json:"user_agent"`
	Result     string    `json:"result"`
	Reason     string    `json:"reason"`
	Detail     string    `json:"detail"`
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"` // empty on the last page
}

// Export formats.
const (
	AuditCSV  = "csv"
	AuditJSON = "json"
)

// auditQuery validates the input and turns it into the store's query;
// forExport lets Limit be any count.
func (s *Service) auditQuery(ctx context.Context, in AuditQueryInput, forExport bool) (storage.AuditQuery, error) {
	var f fields
	q := storage.AuditQuery{ClientID: strings.TrimSpace(in.ClientID), Result: strings.TrimSpace(in.Result),
		Since: in.Since, Until: in.Until, Cursor: strings.TrimSpace(in.Cursor), Limit: in.Limit}
	var unknown []string
	for _, t := range in.Types {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !mfa.IsEventCode(t) {
			unknown = append(unknown, strconv.Quote(t))
		}
		q.Types = append(q.Types, t)
	}
	if len(unknown) > 0 {
		f.add("types", fmt.Sprintf("unknown event type %s; the types are %s", strings.Join(unknown, ", "),
			mfa.EventCodeList()))
	}
	switch q.Result {
	case "", storage.ResultSuccess, storage.ResultFailure:
	default:
		f.add("result", "must be "+storage.ResultSuccess+" or "+storage.ResultFailure)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		f.add("until", "must be after since")
	}
	if ip := strings.TrimSpace(in.IP); ip != "" {
		// Rows hold addresses in canonical form (audit.Enrich).
		if a, err := netip.ParseAddr(ip); err == nil {
			q.IP = a.Unmap().String()
		} else {
			f.add("ip", "must be an IPv4 or IPv6 address")
		}
	}
	if c := strings.ToUpper(strings.TrimSpace(in.Country)); c != "" {
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			f.add("country", "must be a two-letter country code such as FR")
		}
		q.Country = c
	}
	if len(q.ClientID) > 200 {
		f.add("client_id", "is longer than 200 characters")
	}
	if forExport {
		if in.Limit < 0 {
			f.add("limit", "must not be negative (0 exports every match)")
		}
	} else {
		pageLimitField(&f, in.Limit)
	}
	user := strings.TrimSpace(in.User)
	if len(user) > maxEmail {
		f.add("user", fmt.Sprintf("is longer than %d characters", maxEmail))
	}
	if err := f.err(); err != nil {
		return q, err
	}
	if strings.Contains(user, "@") {
		u, err := resolveUser(ctx, s.Store, user)
		if err != nil {
			return q, err
		}
		user = u.ID
	}
	q.UserID = user
	return q, nil
}

func auditEventView(e *storage.AuditEvent) AuditEvent {
	return AuditEvent{ID: e.ID, Time: e.At, Type: e.Type, TypeLabel: mfa.EventLabel(e.Type), Actor: e.Actor,
		UserID: e.UserID, Identifier: e.Identifier, ClientID: e.ClientID, IP: e.IP, Country: e.Country,
		UserAgent: e.UserAgent, Result: e.Result, Reason: e.Reason, Detail: e.Detail}
}

// QueryAudit returns one page of the events the input selects, newest
// first. An unknown event type is a FieldErrors entry that lists the
// known ones.
func (s *Service) QueryAudit(ctx context.Context, in AuditQueryInput) (*AuditPage, error) {
	q, err := s.auditQuery(ctx, in, false)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.QueryAudit(ctx, q)
	if err != nil {
		return nil, asFieldErrors(err)
	}
	out := &AuditPage{Events: make([]AuditEvent, len(page.Events)), NextCursor: page.NextCursor}
	for i := range page.Events {
		out.Events[i] = auditEventView(&page.Events[i])
	}
	return out, nil
}

// ExportAudit writes every event the input selects (from its cursor on, at
// most Limit when set), newest first, to w as CSV or JSON: the documents
// audit.WriteCSV and audit.WriteJSON make, written as the rows are read, so
// an export of any size holds one batch in memory. Validation errors come
// before anything is written; an error after that (the reader went away,
// the database failed) leaves w with a partial document, which the caller
// can only cut off.
func (s *Service) ExportAudit(ctx context.Context, in AuditQueryInput, format string, w io.Writer) error {
	var ew audit.EventWriter
	switch strings.ToLower(strings.TrimSpace(format)) {
	case AuditCSV:
		ew = audit.NewCSVWriter(w)
	case AuditJSON:
		ew = audit.NewJSONWriter(w)
	}
	q, err := s.auditQuery(ctx, in, true)
	if ew == nil {
		fe := FieldErrors{{Field: "format", Reason: "must be " + AuditCSV + " or " + AuditJSON}}
		if err, ok := err.(FieldErrors); ok {
			fe = append(fe, err...)
		}
		return fe
	}
	if err != nil {
		return err
	}
	if err := s.Store.EachAudit(ctx, q, ew.Write); err != nil {
		return asFieldErrors(err)
	}
	return ew.Close()
}
