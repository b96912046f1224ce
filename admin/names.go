package admin

import (
	"context"
	"errors"
	"strings"

	"github.com/stepgate/stepgate/storage"
)

// maxNamedUsers bounds one UserEmails call: a page of a list, never more.
const maxNamedUsers = storage.MaxPageSize

// UserEmails maps those of ids that name an existing user to the user's
// email now: what a page shows instead of the user IDs of audit rows. An ID
// outlives its account in the audit trail, so one that names nobody is left
// out; empty IDs and repeats are skipped. At most a page of IDs
// (storage.MaxPageSize) is asked at once.
func (s *Service) UserEmails(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	for _, id := range ids {
		if id = strings.TrimSpace(id); id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if len(seen) > maxNamedUsers {
			return nil, FieldErrors{{Field: "user", Reason: "names more users than a page holds"}}
		}
		u, err := s.Store.GetUser(ctx, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		out[id] = u.Email
	}
	return out, nil
}

// ClientNames maps every client's ID to its name now, StepGate's own
// console included: what pages show for the client IDs of audit rows and
// sessions, and the choices of a filter by application.
func (s *Service) ClientNames(ctx context.Context) (map[string]string, error) {
	clients, err := s.Store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(clients))
	for _, c := range clients {
		out[c.ID] = c.Name
	}
	return out, nil
}
