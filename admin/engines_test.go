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

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// The admin tests run on a real store: SQLite always, PostgreSQL (a fresh
// schema per test, dropped afterwards) when this variable names a server.
const postgresDSNEnv = "STEPGATE_TEST_POSTGRES_DSN"

// onEngines runs fn once per engine with a fresh, migrated, empty store.
func onEngines(t *testing.T, fn func(t *testing.T, st storage.Store)) {
	t.Helper()
	engines := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "stepgate.db") },
	}
	if os.Getenv(postgresDSNEnv) != "" {
		engines["postgres"] = postgresSchema
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := engines[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, open(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now); err != nil {
				t.Fatal(err)
			}
			fn(t, st)
		})
	}
}

// postgresSchema creates a schema and returns a URL whose connections use
// it; the schema is dropped when the test ends (after the store closes).
func postgresSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(postgresDSNEnv)
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

// cheapHashing keeps argon2 fast in tests; the parameters are still valid.
var cheapHashing = login.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testT0 is the time the tests' clock starts at.
var testT0 = time.Date(2031, 5, 17, 10, 30, 15, 123_000_000, time.UTC)

// serviceAt returns a service over st whose clock reads *now.
func serviceAt(st storage.Store, now *time.Time) *Service {
	return &Service{
		Store:   st,
		Now:     func() time.Time { return *now },
		Hasher:  login.NewHasher(cheapHashing, 4, 10*time.Second),
		CodeKey: []byte("0123456789abcdef0123456789abcdef"),
	}
}
