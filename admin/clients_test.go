package admin

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/op"
	"github.com/stepgate/stepgate/storage"
)

// alice is the actor of the admin tests: a CLI run by the OS user alice.
var alice = CLI("alice")

func dur(d time.Duration) *time.Duration { return &d }
func str(s string) *string               { return &s }
func list(v ...string) *[]string         { return &v }
func yes() *bool                         { v := true; return &v }
func no() *bool                          { v := false; return &v }

// newApp creates a confidential client with the given factors.
func newApp(t *testing.T, s *Service, name string, otp bool) *ClientSecret {
	t.Helper()
	c, err := s.CreateClient(t.Context(), alice, CreateClientInput{Name: name,
		RedirectURIs: []string{"https://" + strings.ToLower(name) + ".example/cb"}, OTP: otp})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// secretWorks asks the token endpoint's own check whether secret
// authenticates the client.
func secretWorks(t *testing.T, st storage.Store, id, secret string) bool {
	t.Helper()
	p := &op.Storage{Store: st, Log: slog.New(slog.DiscardHandler)}
	return p.AuthorizeClientIDSecret(t.Context(), id, secret) == nil
}

// fieldsOf returns the fields of err's FieldErrors, failing the test when
// err is not FieldErrors matching storage.ErrInvalid.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var fe FieldErrors
	if !errors.As(err, &fe) || !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("error %v (%T), want FieldErrors matching storage.ErrInvalid", err, err)
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	return out
}

func TestCreateClient(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, clock *clientsClock) {
		ctx := t.Context()
		t.Run("a confidential client gets a secret shown once, which the token endpoint accepts", func(t *testing.T) {
			got, err := s.CreateClient(ctx, alice, CreateClientInput{Name: "  Wiki ", RedirectURIs: []string{"https://wiki.example/cb"},
				PostLogoutRedirectURIs: []string{"https://wiki.example/"}, TokenFormat: storage.TokenFormatOpaque,
				AccessTokenLifetime: 5 * time.Minute, OTP: true, MFAMaxAge: dur(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			c := got.Client
			if got.Secret == "" || c.Name != "Wiki" || c.Public || c.TokenFormat != "opaque" || c.AccessTokenLifetime != 5*time.Minute ||
				c.Factors != (ClientFactors{OTP: true, MFAMaxAge: time.Hour}) || !c.CreatedAt.Equal(clock.now) {
				t.Errorf("created %+v", got)
			}
			stored, err := s.Store.GetClient(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.SecretHash == got.Secret || stored.SecretHash != op.HashSecret(got.Secret) {
				t.Errorf("stored secret hash %q is not the hash the login checks", stored.SecretHash)
			}
			if !secretWorks(t, s.Store, c.ID, got.Secret) || secretWorks(t, s.Store, c.ID, got.Secret+"x") {
				t.Error("the shown secret does not authenticate the client, or another one does")
			}
			rows := clientsAudit(t, s.Store, mfa.EventClientCreated)
			if len(rows) != 1 || rows[0].Actor != "cli:alice" || rows[0].ClientID != c.ID || strings.Contains(rows[0].Detail, got.Secret) {
				t.Errorf("audit %+v, want one row by cli:alice about %s without the secret", rows, c.ID)
			}
		})
		t.Run("a public client has no secret; defaults are jwt and the whole session", func(t *testing.T) {
			got, err := s.CreateClient(ctx, alice, CreateClientInput{Name: "SPA", Public: true,
				RedirectURIs: []string{"http://127.0.0.1:9000/cb"}})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := s.Store.GetClient(ctx, got.Client.ID)
			if got.Secret != "" || stored.SecretHash != "" || got.Client.TokenFormat != storage.TokenFormatJWT ||
				got.Client.Factors.MFAMaxAge >= 0 {
				t.Errorf("public client %+v, stored hash %q", got, stored.SecretHash)
			}
		})
		t.Run("the ID and the secret come from the service's randomness", func(t *testing.T) {
			seed := bytes.Repeat([]byte{7}, 16)
			seed = append(seed, bytes.Repeat([]byte{9}, 32)...)
			r := &Service{Store: s.Store, Now: s.Now, Rand: bytes.NewReader(seed)}
			got, err := r.CreateClient(ctx, alice, CreateClientInput{Name: "Seeded", RedirectURIs: []string{"https://s.example/cb"}})
			if err != nil {
				t.Fatal(err)
			}
			if got.Client.ID != hex.EncodeToString(seed[:16]) || got.Secret != base64.RawURLEncoding.EncodeToString(seed[16:]) {
				t.Errorf("ID %s secret %s not from the reader", got.Client.ID, got.Secret)
			}
			_, err = r.CreateClient(ctx, alice, CreateClientInput{Name: "Dry", RedirectURIs: []string{"https://d.example/cb"}})
			if err == nil {
				t.Fatal("created a client with no randomness left")
			}
			list := allClients(t, s)
			if slices.ContainsFunc(list, func(c Client) bool { return c.Name == "Dry" }) {
				t.Error("a client was stored without randomness")
			}
		})
	})
}

func TestCreateClientFieldErrors(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ok := func() CreateClientInput {
			return CreateClientInput{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}
		}
		for _, c := range []struct {
			rule   string
			change func(in *CreateClientInput)
			fields []string
		}{
			{"a name is required", func(in *CreateClientInput) { in.Name = "  " }, []string{"name"}},
			{"a redirect URI is required", func(in *CreateClientInput) { in.RedirectURIs = nil }, []string{"redirect_uris"}},
			{"a redirect URI keeps the model's rule", func(in *CreateClientInput) {
				in.RedirectURIs = []string{"http://app.example/cb"}
			}, []string{"redirect_uris"}},
			{"a post-logout URI keeps the model's rule", func(in *CreateClientInput) {
				in.PostLogoutRedirectURIs = []string{"javascript:alert(1)"}
			}, []string{"post_logout_redirect_uris"}},
			{"a name is at most 200 characters", func(in *CreateClientInput) { in.Name = strings.Repeat("é", 201) }, []string{"name"}},
			{"a name has no control characters", func(in *CreateClientInput) { in.Name = "App\nX" }, []string{"name"}},
			{"at most 50 redirect URIs", func(in *CreateClientInput) {
				in.RedirectURIs = nil
				for i := range 51 {
					in.RedirectURIs = append(in.RedirectURIs, fmt.Sprintf("https://app.example/cb%d", i))
				}
			}, []string{"redirect_uris"}},
			{"the token format is known", func(in *CreateClientInput) { in.TokenFormat = "paseto" }, []string{"token_format"}},
			{"an access token lifetime is at least a minute", func(in *CreateClientInput) {
				in.AccessTokenLifetime = 30 * time.Second
			}, []string{"access_token_lifetime"}},
			{"a re-authentication period is whole seconds", func(in *CreateClientInput) {
				in.MFAMaxAge = dur(1500 * time.Millisecond)
			}, []string{"mfa_max_age"}},
			{"every broken rule is named at once", func(in *CreateClientInput) {
				in.Name, in.RedirectURIs, in.TokenFormat, in.RefreshTokenLifetime = "", []string{"ftp://x"}, "x", -time.Hour
				in.MFAMaxAge = dur(time.Millisecond)
			}, []string{"mfa_max_age", "name", "redirect_uris", "token_format", "refresh_token_lifetime"}},
		} {
			t.Run(c.rule, func(t *testing.T) {
				in := ok()
				c.change(&in)
				_, err := s.CreateClient(t.Context(), alice, in)
				if got := fieldsOf(t, err); !slices.Equal(got, c.fields) {
					t.Errorf("fields %v, want %v", got, c.fields)
				}
				if msg := err.Error(); strings.Contains(msg, "sql") || strings.Contains(msg, "pq:") {
					t.Errorf("error %q carries driver text", msg)
				}
			})
		}
		if list := allClients(t, s); len(list) != 0 {
			t.Errorf("refused clients were stored: %+v", list)
		}
		if rows := clientsAudit(t, s.Store, mfa.EventClientCreated); len(rows) != 0 {
			t.Errorf("refused creations were audited: %+v", rows)
		}
	})
}

// allClients is every client, one page.
func allClients(t *testing.T, s *Service) []Client {
	t.Helper()
	l, err := s.ListClients(t.Context(), ListClientsInput{Limit: storage.MaxPageSize})
	if err != nil || l.NextCursor != "" {
		t.Fatalf("list: %+v, %v", l, err)
	}
	return l.Clients
}

func TestShowAndListClients(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, clock *clientsClock) {
		ctx := t.Context()
		a := newApp(t, s, "A", true)
		clock.now = clock.now.Add(time.Minute)
		b := newApp(t, s, "B", false)
		if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: b.Client.ID, Email: yes(), MFAMaxAge: dur(0)}); err != nil {
			t.Fatal(err)
		}
		page, err := s.ListClients(ctx, ListClientsInput{Limit: 1})
		if err != nil || len(page.Clients) != 1 || page.Clients[0].ID != a.Client.ID || page.NextCursor == "" {
			t.Fatalf("first page %+v, %v; want A and a cursor", page, err)
		}
		next, err := s.ListClients(ctx, ListClientsInput{Limit: 1, Cursor: page.NextCursor})
		if err != nil || len(next.Clients) != 1 || next.Clients[0].ID != b.Client.ID || next.NextCursor != "" {
			t.Fatalf("second page %+v, %v; want B, last", next, err)
		}
		if _, err := s.ListClients(ctx, ListClientsInput{Cursor: "forged"}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("a damaged cursor: %v, want a field error", err)
		}
		if _, err := s.ListClients(ctx, ListClientsInput{Limit: -1}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("a negative limit: %v, want a field error", err)
		}
		list := allClients(t, s)
		if len(list) != 2 || list[0].ID != a.Client.ID || list[1].ID != b.Client.ID {
			t.Fatalf("list %+v, want A then B", list)
		}
		if list[0].Factors != (ClientFactors{OTP: true, MFAMaxAge: -1}) || list[1].Factors != (ClientFactors{Email: true}) {
			t.Errorf("factors listed %+v and %+v", list[0].Factors, list[1].Factors)
		}
		got, err := s.ShowClient(ctx, b.Client.ID)
		if err != nil || got.Name != "B" || got.Factors != list[1].Factors {
			t.Errorf("show %+v %v", got, err)
		}
		_, err = s.ShowClient(ctx, "nope")
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.What != "client" || nf.Ref != "nope" || !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("show unknown: %v", err)
		}
	})
}

func TestUpdateClient(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, clock *clientsClock) {
		ctx := t.Context()
		app := newApp(t, s, "App", true)
		id := app.Client.ID
		clock.now = clock.now.Add(time.Hour)

		t.Run("the given fields change and the rest stays", func(t *testing.T) {
			got, err := s.UpdateClient(ctx, alice, UpdateClientInput{ID: id, Name: str("Renamed"),
				RedirectURIs: list("https://new.example/cb", "com.example.app:/cb"), PostLogoutRedirectURIs: list("https://new.example/"),
				TokenFormat: str("opaque"), AccessTokenLifetime: dur(10 * time.Minute), RefreshTokenLifetime: dur(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "Renamed" || !slices.Equal(got.RedirectURIs, []string{"https://new.example/cb", "com.example.app:/cb"}) ||
				got.TokenFormat != "opaque" || got.AccessTokenLifetime != 10*time.Minute || got.RefreshTokenLifetime != 24*time.Hour ||
				got.IDTokenLifetime != 0 || !got.Factors.OTP || !got.UpdatedAt.Equal(clock.now) || !got.CreatedAt.Equal(app.Client.CreatedAt) {
				t.Errorf("updated %+v", got)
			}
			if !secretWorks(t, s.Store, id, app.Secret) {
				t.Error("an update changed the secret")
			}
			rows := clientsAudit(t, s.Store, mfa.EventClientUpdated)
			want := "changed name, redirect_uris, post_logout_redirect_uris, token_format, access_token_lifetime, refresh_token_lifetime"
			if len(rows) != 1 || rows[0].Actor != "cli:alice" || rows[0].ClientID != id || rows[0].Detail != want {
				t.Errorf("audit %+v, want one row %q", rows, want)
			}
		})
		t.Run("a change that changes nothing writes nothing", func(t *testing.T) {
			clock.now = clock.now.Add(time.Hour)
			got, err := s.UpdateClient(ctx, alice, UpdateClientInput{ID: id, Name: str("Renamed"), TokenFormat: str("opaque")})
			if err != nil || got.Name != "Renamed" || got.UpdatedAt.Equal(clock.now) {
				t.Errorf("no-op update %+v %v", got, err)
			}
			if rows := clientsAudit(t, s.Store, mfa.EventClientUpdated); len(rows) != 1 {
				t.Errorf("%d update rows, want the first only", len(rows))
			}
		})
		t.Run("refused values are field errors and nothing changes", func(t *testing.T) {
			_, err := s.UpdateClient(ctx, alice, UpdateClientInput{ID: id, Name: str(""), RedirectURIs: list(),
				PostLogoutRedirectURIs: list("http://evil.example/"), TokenFormat: str("saml"), IDTokenLifetime: dur(48 * time.Hour)})
			want := []string{"name", "redirect_uris", "post_logout_redirect_uris", "token_format", "id_token_lifetime"}
			if got := fieldsOf(t, err); !slices.Equal(got, want) {
				t.Errorf("fields %v, want %v", got, want)
			}
			got, _ := s.ShowClient(ctx, id)
			if got.Name != "Renamed" || got.TokenFormat != "opaque" || len(got.RedirectURIs) != 2 {
				t.Errorf("a refused update changed the client: %+v", got)
			}
		})
		t.Run("an update leaves the factors as they are now", func(t *testing.T) {
			if _, err := s.SetFactors(ctx, alice, SetFactorsInput{ClientID: id, Email: yes()}); err != nil {
				t.Fatal(err)
			}
			got, err := s.UpdateClient(ctx, alice, UpdateClientInput{ID: id, Name: str("Again")})
			if err != nil || !got.Factors.Email || !got.Factors.OTP {
				t.Errorf("update undid the factor change: %+v %v", got, err)
			}
		})
		t.Run("an unknown client is not found", func(t *testing.T) {
			_, err := s.UpdateClient(ctx, alice, UpdateClientInput{ID: "nope", Name: str("X")})
			var nf *NotFoundError
			if !errors.As(err, &nf) || nf.Ref != "nope" {
				t.Errorf("update unknown: %v", err)
			}
		})
	})
}

func TestRotateSecret(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		app := newApp(t, s, "App", false)
		got, err := s.RotateSecret(ctx, alice, app.Client.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Secret == "" || got.Secret == app.Secret || got.Client.ID != app.Client.ID {
			t.Fatalf("rotated %+v", got)
		}
		if secretWorks(t, s.Store, app.Client.ID, app.Secret) {
			t.Error("the old secret still works")
		}
		if !secretWorks(t, s.Store, app.Client.ID, got.Secret) {
			t.Error("the new secret does not work")
		}
		rows := clientsAudit(t, s.Store, mfa.EventClientSecretRotated)
		if len(rows) != 1 || rows[0].ClientID != app.Client.ID || rows[0].Actor != "cli:alice" ||
			strings.Contains(rows[0].Detail, got.Secret) {
			t.Errorf("audit %+v", rows)
		}

		pub, err := s.CreateClient(ctx, alice, CreateClientInput{Name: "SPA", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.RotateSecret(ctx, alice, pub.Client.ID)
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, storage.ErrConflict) {
			t.Errorf("rotating a public client's secret: %v, want a ConflictError", err)
		}
		if stored, _ := s.Store.GetClient(ctx, pub.Client.ID); stored.SecretHash != "" {
			t.Error("a public client got a secret")
		}
		if _, err := s.RotateSecret(ctx, alice, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("rotating an unknown client: %v", err)
		}
		if rows := clientsAudit(t, s.Store, mfa.EventClientSecretRotated); len(rows) != 1 {
			t.Errorf("refused rotations were audited: %+v", rows)
		}
	})
}

func TestDeleteClient(t *testing.T) {
	eachClientsEngine(t, func(t *testing.T, s *Service, _ *clientsClock) {
		ctx := t.Context()
		console := newApp(t, s, "Console", false)
		app := newApp(t, s, "App", false)
		s.ConsoleClientID = console.Client.ID

		if got, _ := s.ShowClient(ctx, console.Client.ID); !got.Console {
			t.Error("the console client is not shown as the console")
		}
		_, err := s.DeleteClient(ctx, alice, DeleteClientInput{ID: console.Client.ID})
		var ce *ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, storage.ErrConflict) {
			t.Errorf("deleting the console: %v, want a ConflictError", err)
		}
		if _, err := s.Store.GetClient(ctx, console.Client.ID); err != nil {
			t.Errorf("the console client is gone: %v", err)
		}

		if _, err := s.DeleteClient(ctx, alice, DeleteClientInput{ID: app.Client.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.GetClient(ctx, app.Client.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted client still there: %v", err)
		}
		if secretWorks(t, s.Store, app.Client.ID, app.Secret) {
			t.Error("a deleted client's secret still works")
		}
		_, err = s.DeleteClient(ctx, alice, DeleteClientInput{ID: app.Client.ID})
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Ref != app.Client.ID {
			t.Errorf("deleting it again: %v, want NotFoundError", err)
		}
		rows := clientsAudit(t, s.Store, mfa.EventClientDeleted)
		if len(rows) != 1 || rows[0].ClientID != app.Client.ID || rows[0].Actor != "cli:alice" || rows[0].Detail != `name="App"` {
			t.Errorf("audit %+v, want one row for the deletion that happened", rows)
		}
	})
}
