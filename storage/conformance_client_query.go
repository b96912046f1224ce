package storage

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func clientQueryCases() []conformanceCase {
	return []conformanceCase{
		{"clients are paged in creation order, ties by ID, each once", func(t *testing.T, s Store) {
			// c3 and c1 share a time; "c10" sorts before "c2" bytewise.
			for _, c := range []struct {
				id string
				at time.Duration
			}{{"c3", time.Minute}, {"c2", 0}, {"c1", time.Minute}, {"c10", time.Minute}, {"c0", 2 * time.Minute}} {
				f := fixtureClient(c.id)
				f.CreatedAt = at(c.at)
				must(t, s.CreateClient(t.Context(), f))
			}
			want := []string{"c2", "c1", "c10", "c3", "c0"}
			for _, limit := range []int{1, 2, 5, 0} {
				var got []string
				q := ClientQuery{Limit: limit}
				for range 10 {
					page, err := s.QueryClients(t.Context(), q)
					must(t, err)
					for _, c := range page.Clients {
						got = append(got, c.ID)
					}
					if q.Cursor = page.NextCursor; q.Cursor == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("limit %d: %v, want %v", limit, got, want)
				}
			}
			page, err := s.QueryClients(t.Context(), ClientQuery{Limit: 1})
			must(t, err)
			c2, err := s.GetClient(t.Context(), "c2")
			must(t, err)
			sameRecord(t, page.Clients, []Client{*c2})
			_, err = s.QueryClients(t.Context(), ClientQuery{Cursor: "not-a-cursor"})
			wantErr(t, err, ErrInvalid)
		}},
		{"clients are counted", func(t *testing.T, s Store) {
			n, err := s.CountClients(t.Context())
			must(t, err)
			if n != 0 {
				t.Errorf("empty store: %d clients", n)
			}
			seedClient(t, s, "c1")
			seedClient(t, s, "c2")
			n, err = s.CountClients(t.Context())
			must(t, err)
			if n != 2 {
				t.Errorf("%d clients, want 2", n)
			}
		}},
		{"a client's signed-in users are the distinct holders of live tokens", func(t *testing.T, s Store) {
			ctx := t.Context()
			for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
				seedUser(t, s, u)
			}
			for _, c := range []string{"c1", "c2", "c3"} {
				seedClient(t, s, c)
			}
			got, err := s.CountClientUsers(ctx, confT0)
			must(t, err)
			if len(got) != 0 {
				t.Errorf("no tokens: %v", got)
			}
			// c1: u1 twice (access) and by refresh, u2 by refresh only.
			must(t, s.CreateToken(ctx, fixtureToken("a1", "c1", "u1", "", "")))
			must(t, s.CreateToken(ctx, fixtureToken("a2", "c1", "u1", "", "")))
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r1", "f1", "c1", "u1", "")))
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r2", "f2", "c1", "u2", "")))
			// c2: u3's access token is revoked, u4's expired, u5's refresh
			// token was used (rotated away) and its access token expired.
			must(t, s.CreateToken(ctx, fixtureToken("a3", "c2", "u3", "", "")))
			must(t, s.RevokeToken(ctx, "a3", confT0))
			expired := fixtureToken("a4", "c2", "u4", "", "")
			expired.ExpiresAt = confT0
			must(t, s.CreateToken(ctx, expired))
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r5", "f5", "c2", "u5", "")))
			must(t, s.UseRefreshToken(ctx, "r5", confT0))
			// c3: u3 holds a live refresh token here; their revoked c2
			// token does not matter.
			must(t, s.CreateRefreshToken(ctx, fixtureRefresh("r3", "f3", "c3", "u3", "")))

			got, err = s.CountClientUsers(ctx, confT0)
			must(t, err)
			if want := map[string]int64{"c1": 2, "c3": 1}; !maps.Equal(got, want) {
				t.Errorf("at confT0: %v, want %v", got, want)
			}
			// After the access tokens' hour only the refresh tokens count.
			got, err = s.CountClientUsers(ctx, at(time.Hour))
			must(t, err)
			if want := map[string]int64{"c1": 2, "c3": 1}; !maps.Equal(got, want) {
				t.Errorf("an hour later: %v, want %v", got, want)
			}
			must(t, s.RevokeRefreshFamily(ctx, "f2", at(time.Hour)))
			got, err = s.CountClientUsers(ctx, at(time.Hour))
			must(t, err)
			if want := map[string]int64{"c1": 1, "c3": 1}; !maps.Equal(got, want) {
				t.Errorf("after revoking u2's family: %v, want %v", got, want)
			}
		}},
	}
}
