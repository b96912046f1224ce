package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// Benchmarks of the store queries every login makes, on SQLite (and on
// PostgreSQL when storagetest.PostgresEnv is set), in a database of
// benchUsers users with a confirmed authenticator each. They assert nothing
// about speed; `go test -run XXX -bench . -benchtime=100x ./storage/sqlstore`
// runs them quickly. The load benchmark (`stepgate bench`) measures whole
// logins at any number of users.

const benchUsers = 2000

// benchStores opens a fresh migrated store per engine, seeded with
// benchUsers users, and runs fn on each.
func benchStores(b *testing.B, fn func(b *testing.B, s *Store)) {
	urls := map[string]func() string{
		"sqlite": func() string { return "sqlite://" + filepath.Join(b.TempDir(), "stepgate.db") },
	}
	if dsn := os.Getenv(storagetest.PostgresEnv); dsn != "" {
		urls["postgres"] = func() string { return storagetest.FreshPostgresSchema(b, dsn) }
	}
	for engine, url := range urls {
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, url())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			if _, err := migrations.Up(ctx, s.DB(), s.Dialect(), time.Now); err != nil {
				b.Fatal(err)
			}
			seedBenchUsers(b, s)
			b.ResetTimer()
			fn(b, s)
		})
	}
}

var benchNow = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

func benchEmail(i int) string  { return fmt.Sprintf("user%d@example.com", i) }
func benchUserID(i int) string { return fmt.Sprintf("u%06d", i) }

func seedBenchUsers(b *testing.B, s *Store) {
	ctx := context.Background()
	for lo := 0; lo < benchUsers; lo += 500 {
		err := s.InTx(ctx, func(tx storage.Store) error {
			for i := lo; i < min(lo+500, benchUsers); i++ {
				u := &storage.User{ID: benchUserID(i), Email: benchEmail(i), Role: storage.RoleMember,
					PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: benchNow, UpdatedAt: benchNow}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				f := &storage.FactorBinding{ID: "b" + u.ID, UserID: u.ID, Kind: storage.FactorTOTP,
					SealedSecret: []byte("sealed"), CreatedAt: benchNow}
				if err := tx.PutPendingFactor(ctx, f); err != nil {
					return err
				}
				if err := tx.ConfirmFactor(ctx, f.ID, benchNow, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetUserByEmail is the password step's lookup.
func BenchmarkGetUserByEmail(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		i := 0
		for b.Loop() {
			i = (i + 7919) % benchUsers
			if u, err := s.GetUserByEmail(b.Context(), benchEmail(i)); err != nil || u.ID != benchUserID(i) {
				b.Fatalf("user %d: %v, %v", i, u, err)
			}
		}
	})
}

// BenchmarkGetFactor is the second step's lookup of the user's
// authenticator.
func BenchmarkGetFactor(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		i := 0
		for b.Loop() {
			i = (i + 7919) % benchUsers
			if f, err := s.GetFactor(b.Context(), benchUserID(i), storage.FactorTOTP); err != nil || f.ConfirmedAt.IsZero() {
				b.Fatalf("binding of user %d: %v, %v", i, f, err)
			}
		}
	})
}

// BenchmarkRotateSession is what each step of a login does to the SSO
// session: a new ID and the factors done so far, in one statement.
func BenchmarkRotateSession(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store) {
		ctx := b.Context()
		hash := "h0"
		if err := s.CreateSession(ctx, &storage.Session{IDHash: hash, UserID: benchUserID(1), CreatedAt: benchNow,
			LastSeenAt: benchNow, ExpiresAt: benchNow.Add(12 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
		factors := []storage.FactorRecord{{Method: "pwd", At: benchNow}, {Method: "otp", At: benchNow}}
		n := 0
		for b.Loop() {
			n++
			next := fmt.Sprintf("h%d", n)
			if err := s.RotateSession(ctx, hash, next, factors, benchNow); err != nil {
				b.Fatal(err)
			}
			hash = next
		}
	})
}
