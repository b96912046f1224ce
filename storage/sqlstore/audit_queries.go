package sqlstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

const auditCursor = "audit"

// eachAuditBatch is how many rows EachAudit reads per statement.
const eachAuditBatch = 500

// auditFilter turns q's filters (not its cursor) into conditions.
func auditFilter(q storage.AuditQuery) *where {
	w := &where{}
	for _, c := range []struct{ column, value string }{
		{"user_id", q.UserID}, {"client_id", q.ClientID}, {"result", q.Result}, {"ip", q.IP}, {"country", q.Country},
	} {
		if c.value != "" {
			w.add(c.column+" = ?", c.value)
		}
	}
	if len(q.Types) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Types)), ", ")
		args := make([]any, len(q.Types))
		for i, t := range q.Types {
			args[i] = t
		}
		w.add("type IN ("+marks+")", args...)
	}
	if !q.Since.IsZero() {
		w.add("at >= ?", ms(q.Since))
	}
	if !q.Until.IsZero() {
		w.add("at < ?", ms(q.Until))
	}
	return w
}

// auditBefore reads the cursor: the ID of the last event shown, 0 for none.
func auditBefore(cursor string) (int64, error) {
	key, ok, err := decodeCursor(auditCursor, cursor, 1)
	if err != nil || !ok {
		return 0, err
	}
	id, err := strconv.ParseInt(key[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadCursor
	}
	return id, nil
}

// auditRows reads at most limit events of q with an ID below before (0:
// any), newest first.
func (s *Store) auditRows(ctx context.Context, q storage.AuditQuery, before int64, limit int) ([]storage.AuditEvent, error) {
	w := auditFilter(q)
	if before > 0 {
		w.add("id < ?", before)
	}
	return collect(ctx, s, scanAudit, qListAudit+w.sql()+" ORDER BY id DESC LIMIT ?", append(w.args, limit)...)
}

// QueryAudit pages by ID, newest first: IDs only grow, so a page never
// shifts when events are appended while someone reads.
func (s *Store) QueryAudit(ctx context.Context, q storage.AuditQuery) (storage.AuditPage, error) {
	before, err := auditBefore(q.Cursor)
	if err != nil {
		return storage.AuditPage{}, err
	}
	limit := storage.PageLimit(q.Limit)
	events, err := s.auditRows(ctx, q, before, limit+1)
	if err != nil {
		return storage.AuditPage{}, err
	}
	page := storage.AuditPage{Events: events}
	if len(events) > limit {
		page.Events = events[:limit]
		page.NextCursor = encodeCursor(auditCursor, strconv.FormatInt(events[limit-1].ID, 10))
	}
	return page, nil
}

// EachAudit walks q's events a batch at a time, each batch one statement
// bounded by the operation timeout, and calls fn only once the batch's rows
// are closed. The first batch fixes the newest ID, so rows appended during
// the walk are never visited.
func (s *Store) EachAudit(ctx context.Context, q storage.AuditQuery, fn func(e *storage.AuditEvent) error) error {
	before, err := auditBefore(q.Cursor)
	if err != nil {
		return err
	}
	left := q.Limit // <= 0: no limit
	for {
		n := eachAuditBatch
		if q.Limit > 0 {
			n = min(n, left)
		}
		events, err := s.auditRows(ctx, q, before, n)
		if err != nil {
			return err
		}
		for i := range events {
			if err := fn(&events[i]); err != nil {
				return err
			}
		}
		if len(events) < n {
			return nil
		}
		before = events[len(events)-1].ID
		if q.Limit > 0 {
			if left -= len(events); left <= 0 {
				return nil
			}
		}
	}
}
