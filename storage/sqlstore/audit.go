package sqlstore

import (
	"context"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

const auditColumns = `id, at, type, actor, user_id, identifier, client_id, ip, country, user_agent, result, reason, detail`

const (
	qInsertAudit = `INSERT INTO audit_events (at, type, actor, user_id, identifier, client_id, ip, country, user_agent,
		result, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	qListAudit = `SELECT ` + auditColumns + ` FROM audit_events`
)

func scanAudit(row scanner) (*storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := row.Scan(&e.ID, (*msTime)(&e.At), &e.Type, &e.Actor, &e.UserID, &e.Identifier, &e.ClientID, &e.IP, &e.Country,
		&e.UserAgent, &e.Result, &e.Reason, &e.Detail)
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// AppendAudit inserts the event and sets e.ID.
func (s *Store) AppendAudit(ctx context.Context, e *storage.AuditEvent) error {
	err := s.queryRow(ctx, qInsertAudit, ms(e.At), e.Type, e.Actor, e.UserID, e.Identifier, e.ClientID, e.IP, e.Country,
		e.UserAgent, e.Result, e.Reason, e.Detail).Scan(&e.ID)
	return mapErr(err)
}

// ListAudit returns matching events newest first (ties by insertion order,
// newest first). A Limit of 0 or less returns every match.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	var where []string
	var args []any
	for _, c := range []struct {
		column, value string
	}{{"user_id", f.UserID}, {"type", f.Type}, {"result", f.Result}} {
		if c.value != "" {
			where = append(where, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ms(f.Since))
	}
	q := qListAudit
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return collect(ctx, s, scanAudit, q, args...)
}
