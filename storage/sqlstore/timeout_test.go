package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/dbproxy"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// On a database that stops answering, every operation fails with
// ErrUnavailable shortly after the operation timeout instead of hanging.
func TestFrozenDatabaseFailsWithinTheTimeout(t *testing.T) {
	const timeout = time.Second
	// timeout, plus the connection deadline's second, plus scheduling slack
	const limit = timeout + 2*time.Second
	ops := map[string]func(s *Store) error{
		"read": func(s *Store) error { _, err := s.GetUser(context.Background(), "u1"); return err },
		"write": func(s *Store) error {
			return s.CreateUser(context.Background(), &storage.User{ID: "u2", Email: "u2@example.com", Role: storage.RoleMember})
		},
		"transaction": func(s *Store) error {
			_, err := s.UpdateUser(context.Background(), "u1", func(u *storage.User) error { u.Name = "x"; return nil })
			return err
		},
		"ping": func(s *Store) error { return s.Ping(context.Background()) },
	}
	check := func(t *testing.T, s *Store, only ...string) {
		for name, op := range ops {
			if len(only) > 0 && !contains(only, name) {
				continue
			}
			start := time.Now()
			err := op(s)
			if elapsed := time.Since(start); elapsed > limit {
				t.Errorf("%s took %s on a frozen database, want at most %s", name, elapsed, limit)
			}
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("%s on a frozen database = %v, want ErrUnavailable", name, err)
			}
		}
	}
	seed := func(t *testing.T, s *Store) {
		if err := s.CreateUser(context.Background(), &storage.User{ID: "u1", Email: "u1@example.com", Role: storage.RoleMember}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("sqlite writer lock", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "stepgate.db")
		s := openMigratedWith(t, "sqlite://"+path, Timeout(timeout))
		seed(t, s)
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		lock, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()
		if _, err := lock.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		defer lock.ExecContext(context.Background(), "ROLLBACK")
		check(t, s, "write", "transaction") // WAL readers are not blocked
	})

	t.Run("postgres behind a paused proxy", func(t *testing.T) {
		if os.Getenv(storagetest.PostgresEnv) == "" {
			t.Skipf("set %s", storagetest.PostgresEnv)
		}
		u, err := url.Parse(postgresSchemaURL(t))
		if err != nil {
			t.Fatal(err)
		}
		proxy, err := dbproxy.Start(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Stop()
		u.Host = proxy.Addr()
		s := openMigratedWith(t, u.String(), Timeout(timeout))
		seed(t, s)
		proxy.Pause()
		check(t, s)
		proxy.Resume()
		// Connections broken by the freeze are dropped; the pool recovers.
		deadline := time.Now().Add(10 * time.Second)
		for s.Ping(context.Background()) != nil {
			if time.Now().After(deadline) {
				t.Fatal("the store did not recover after the database thawed")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := s.GetUser(context.Background(), "u1"); err != nil {
			t.Errorf("after the thaw: %v", err)
		}
	})
}

func TestPostgresSessionBounds(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		t.Skipf("set %s", storagetest.PostgresEnv)
	}
	s := openMigratedWith(t, postgresSchemaURL(t), Timeout(1500*time.Millisecond))
	for setting, want := range map[string]string{
		"statement_timeout": "1500ms", "lock_timeout": "1500ms", "idle_in_transaction_session_timeout": "3s",
	} {
		var got string
		if err := s.DB().Get(&got, "SHOW "+setting); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", setting, got, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func openMigratedWith(t *testing.T, rawURL string, opts ...Option) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, rawURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migrations.Up(ctx, s.DB(), s.Dialect(), time.Now); err != nil {
		t.Fatal(err)
	}
	return s
}
