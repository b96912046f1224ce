package op

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// lifetimeStore holds one client and records the tokens issued; any other
// call panics on the nil Store.
type lifetimeStore struct {
	storage.Store
	client  *storage.Client
	access  *storage.Token
	refresh *storage.RefreshToken
}

func (s *lifetimeStore) GetClient(context.Context, string) (*storage.Client, error) {
	return s.client, nil
}
func (s *lifetimeStore) InTx(_ context.Context, fn func(storage.Store) error) error {
	return fn(s)
}
func (s *lifetimeStore) CreateToken(_ context.Context, t *storage.Token) error {
	s.access = t
	return nil
}
func (s *lifetimeStore) CreateRefreshToken(_ context.Context, t *storage.RefreshToken) error {
	s.refresh = t
	return nil
}

// A client's own lifetime applies where it is shorter than the server's;
// zero or a longer one is the server's.
func TestClientLifetimesShortenTheServers(t *testing.T) {
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	server := Lifetimes{AccessToken: 15 * time.Minute, IDToken: time.Hour, Refresh: 720 * time.Hour}
	for _, c := range []struct {
		name                string
		access, id, refresh time.Duration
		wantA, wantI, wantR time.Duration
	}{
		{"zero is the server's", 0, 0, 0, 15 * time.Minute, time.Hour, 720 * time.Hour},
		{"shorter ones are the client's", 5 * time.Minute, 10 * time.Minute, 24 * time.Hour, 5 * time.Minute, 10 * time.Minute, 24 * time.Hour},
		{"longer ones are cut to the server's", 2 * time.Hour, 24 * time.Hour, 8760 * time.Hour, 15 * time.Minute, time.Hour, 720 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &lifetimeStore{client: &storage.Client{ID: "app", TokenFormat: storage.TokenFormatOpaque,
				AccessTokenLifetime: c.access, IDTokenLifetime: c.id, RefreshTokenLifetime: c.refresh}}
			s := &Storage{Store: st, Lifetimes: server, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
			req := authRequest{r: &storage.AuthRequest{ID: "ar", ClientID: "app", UserID: "u"}}

			_, exp, err := s.CreateAccessToken(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(now.Add(c.wantA)) || !st.access.ExpiresAt.Equal(now.Add(c.wantA)) {
				t.Errorf("access token expires %v (stored %v), want %v", exp, st.access.ExpiresAt, now.Add(c.wantA))
			}
			_, _, exp, err = s.CreateAccessAndRefreshTokens(t.Context(), req, "")
			if err != nil {
				t.Fatal(err)
			}
			if !exp.Equal(now.Add(c.wantA)) || !st.refresh.ExpiresAt.Equal(now.Add(c.wantR)) {
				t.Errorf("with refresh: access expires %v, refresh %v; want %v, %v", exp, st.refresh.ExpiresAt, now.Add(c.wantA), now.Add(c.wantR))
			}
			zc, err := s.GetClientByClientID(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			if got := zc.IDTokenLifetime(); got != c.wantI {
				t.Errorf("ID token lifetime %v, want %v", got, c.wantI)
			}
		})
	}
}
