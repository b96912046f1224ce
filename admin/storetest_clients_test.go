package admin

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// The clients, factors and workspace tests run on the real store: SQLite
// always, PostgreSQL when this names a server. Every test gets a fresh,
// migrated store (a new file, or a new schema dropped afterwards).
const clientsPostgresEnv = "STEPGATE_TEST_POSTGRES_DSN"

// clientsEngines are the engines the tests run on, each making a fresh
// store for one test.
func clientsEngines(t *testing.T) map[string]func(t *testing.T) storage.Store {
	t.Helper()
	engines := map[string]func(t *testing.T) storage.Store{
		"sqlite": func(t *testing.T) storage.Store {
			// Not t.TempDir: a repeated subtest name puts "#01" in it,
			// which the SQLite driver's file: URI cuts off.
			dir, err := os.MkdirTemp("", "stepgate-admin-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			return clientsOpenMigrated(t, "sqlite://"+filepath.Join(dir, "stepgate.db"))
		},
	}
	if os.Getenv(clientsPostgresEnv) != "" {
		engines["postgres"] = func(t *testing.T) storage.Store { return clientsOpenMigrated(t, clientsPostgresSchema(t)) }
	}
	return engines
}

// eachClientsEngine runs fn once per engine, in a subtest named after it,
// with a Service on a fresh store whose clock the test moves.
func eachClientsEngine(t *testing.T, fn func(t *testing.T, s *Service, clock *clientsClock)) {
	t.Helper()
	for name, open := range clientsEngines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &clientsClock{now: time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)}
			fn(t, &Service{Store: open(t), Now: clock.Now}, clock)
		})
	}
}

// clientsClock is a settable clock.
type clientsClock struct{ now time.Time }

func (c *clientsClock) Now() time.Time { return c.now }

func clientsOpenMigrated(t *testing.T, rawURL string) storage.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := migrations.Up(ctx, s.DB(), s.Dialect(), time.Now); err != nil {
		t.Fatal(err)
	}
	return s
}

// clientsPostgresSchema creates a schema and returns a URL whose
// connections use it; the schema is dropped when the test ends (after the
// store closes: cleanups run last-registered first).
func clientsPostgresSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(clientsPostgresEnv)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "sg_admin_" + strings.ToLower(rand.Text())
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// clientsAudit lists the audit rows of one type, oldest first.
func clientsAudit(t *testing.T, st storage.Store, typ string) []storage.AuditEvent {
	t.Helper()
	rows, err := st.ListAudit(t.Context(), storage.AuditFilter{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows
}
