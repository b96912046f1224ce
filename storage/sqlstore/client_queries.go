package sqlstore

import (
	"context"
	"strconv"
	"time"

	"github.com/stepgate/stepgate/storage"
)

const (
	qClientPage   = `SELECT ` + clientColumns + ` FROM clients`
	qCountClients = `SELECT COUNT(*) FROM clients`
	// A user is signed in to a client while holding a live access token or
	// the live end of a refresh family (its used tokens were rotated). UNION
	// drops the pairs both kinds hold.
	qClientUsers = `SELECT client_id, COUNT(*) FROM (
		SELECT client_id, user_id FROM tokens WHERE expires_at > ? AND revoked_at = 0
		UNION
		SELECT client_id, user_id FROM refresh_tokens WHERE expires_at > ? AND revoked_at = 0 AND used_at = 0
	) AS signed_in GROUP BY client_id`
)

const clientCursor = "clients"

// QueryClients pages by (created_at, id), the key of the last row shown.
func (s *Store) QueryClients(ctx context.Context, q storage.ClientQuery) (storage.ClientPage, error) {
	w := &where{}
	key, ok, err := decodeCursor(clientCursor, q.Cursor, 2)
	if err != nil {
		return storage.ClientPage{}, err
	}
	if ok {
		created, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil {
			return storage.ClientPage{}, errBadCursor
		}
		id := s.bytewise("id")
		w.add("(created_at > ? OR (created_at = ? AND "+id+" > ?))", created, created, key[1])
	}
	limit := storage.PageLimit(q.Limit)
	clients, err := collect(ctx, s, scanClient, qClientPage+w.sql()+" ORDER BY created_at, "+s.bytewise("id")+" LIMIT ?",
		append(w.args, limit+1)...)
	if err != nil {
		return storage.ClientPage{}, err
	}
	page := storage.ClientPage{Clients: clients}
	if len(clients) > limit {
		last := clients[limit-1]
		page.Clients = clients[:limit]
		page.NextCursor = encodeCursor(clientCursor, strconv.FormatInt(ms(last.CreatedAt), 10), last.ID)
	}
	return page, nil
}

func (s *Store) CountClients(ctx context.Context) (int64, error) {
	var n int64
	err := s.queryRow(ctx, qCountClients).Scan(&n)
	return n, mapErr(err)
}

func (s *Store) CountClientUsers(ctx context.Context, now time.Time) (map[string]int64, error) {
	type count struct {
		client string
		n      int64
	}
	rows, err := collect(ctx, s, func(r scanner) (*count, error) {
		var c count
		return &c, mapErr(r.Scan(&c.client, &c.n))
	}, qClientUsers, ms(now), ms(now))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, c := range rows {
		out[c.client] = c.n
	}
	return out, nil
}
