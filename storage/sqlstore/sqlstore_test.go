package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/storagetest"
)

func TestSQLiteConformance(t *testing.T) {
	storage.RunConformance(t, newSQLiteStore)
}

func TestPostgresConformance(t *testing.T) {
	if os.Getenv(storagetest.PostgresEnv) == "" {
		t.Skipf("set %s to run the suite on PostgreSQL", storagetest.PostgresEnv)
	}
	storage.RunConformance(t, newPostgresStore)
}

func newSQLiteStore(t *testing.T) storage.Store {
	t.Helper()
	return openMigrated(t, "sqlite://"+filepath.Join(t.TempDir(), "stepgate.db"))
}

func newPostgresStore(t *testing.T) storage.Store {
	t.Helper()
	return openMigrated(t, postgresSchemaURL(t))
}

// postgresSchemaURL returns the URL of a fresh schema of the test's own on
// the server storagetest.PostgresEnv names, dropped when the test ends.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	return storagetest.FreshPostgresSchema(t, os.Getenv(storagetest.PostgresEnv))
}

func openMigrated(t *testing.T, rawURL string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Up(ctx, s.DB(), s.Dialect(), time.Now); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url   string
		wantDialect string
		wantPath    string
		wantDSN     string // prefix
		wantErr     bool
	}{
		{name: "absolute sqlite path", url: "sqlite:///var/lib/stepgate/db.sqlite",
			wantDialect: migrations.SQLite, wantPath: "/var/lib/stepgate/db.sqlite", wantDSN: "file:/var/lib/stepgate/db.sqlite?"},
		{name: "relative sqlite path", url: "sqlite://data/stepgate.db",
			wantDialect: migrations.SQLite, wantPath: "data/stepgate.db", wantDSN: "file:data/stepgate.db?"},
		{name: "sqlite query is dropped for our pragmas", url: "sqlite://x.db?mode=ro",
			wantDialect: migrations.SQLite, wantPath: "x.db", wantDSN: "file:x.db?_pragma="},
		{name: "postgres", url: "postgres://sg@db:5432/sg?sslmode=disable",
			wantDialect: migrations.Postgres, wantDSN: "postgres://sg@db:5432/sg?sslmode=disable"},
		{name: "postgresql scheme", url: "postgresql://sg@db/sg",
			wantDialect: migrations.Postgres, wantDSN: "postgresql://sg@db/sg"},
		{name: "sqlite without a path", url: "sqlite://", wantErr: true},
		{name: "bad scheme", url: "mysql://root@localhost/sg", wantErr: true},
		{name: "bare path", url: "/var/lib/stepgate.db", wantErr: true},
		{name: "invalid postgres URL", url: "postgres://sg@db:port/sg", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, err := ParseURL(tc.url)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error", tc.url, loc)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if loc.Dialect != tc.wantDialect || loc.Path != tc.wantPath || !strings.HasPrefix(loc.DSN, tc.wantDSN) {
				t.Errorf("ParseURL(%q) = %+v, want dialect %s, path %q, DSN starting %q",
					tc.url, loc, tc.wantDialect, tc.wantPath, tc.wantDSN)
			}
			if loc.Dialect == migrations.SQLite && !strings.Contains(loc.DSN, "foreign_keys(1)") {
				t.Errorf("SQLite DSN %q does not enforce foreign keys", loc.DSN)
			}
		})
	}
}

// Errors that reach callers are the sentinels or driver errors, never
// database/sql's own.
func TestErrorsAreMapped(t *testing.T) {
	s := newSQLiteStore(t)
	defer s.Close()
	_, err := s.GetUser(context.Background(), "nobody")
	if err != storage.ErrNotFound {
		t.Errorf("GetUser unknown = %#v, want storage.ErrNotFound itself", err)
	}
}
