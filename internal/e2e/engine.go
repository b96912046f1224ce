package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/lib/pq" // the driver FreshPostgresSchema creates schemas with

	"github.com/stepgate/stepgate/internal/dbproxy"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// PostgresEnv is the variable that names the PostgreSQL server the tests may
// use (a DSN); without it they run on SQLite alone.
const PostgresEnv = "STEPGATE_TEST_POSTGRES_DSN"

// An Engine is a database StepGate runs on. Its zero value is SQLite.
type Engine struct {
	// Name is "sqlite" or "postgres": a subtest name.
	Name string
	dsn  string // the PostgreSQL server; "" for SQLite
}

// SQLite is the engine every test runs on.
var SQLite = Engine{Name: "sqlite"}

// Engines lists the databases end-to-end tests run on: SQLite always,
// PostgreSQL when STEPGATE_TEST_POSTGRES_DSN is set.
func Engines() []Engine {
	e := []Engine{SQLite}
	if dsn := PostgresDSN(); dsn != "" {
		e = append(e, Engine{Name: "postgres", dsn: dsn})
	}
	return e
}

// PostgresDSN is the PostgreSQL server the tests may use, or "".
func PostgresDSN() string { return os.Getenv(PostgresEnv) }

// Postgres reports whether e is PostgreSQL.
func (e Engine) Postgres() bool { return e.dsn != "" }

// Database returns the URL of a new, empty database of this engine: a file
// in dataDir for SQLite, a schema of its own for PostgreSQL (dropped when
// the test ends).
func (e Engine) Database(t testing.TB, dataDir string) string {
	t.Helper()
	if e.dsn == "" {
		return "sqlite://" + filepath.Join(dataDir, "stepgate.db")
	}
	return FreshPostgresSchema(t, e.dsn)
}

// FreshPostgresSchema creates a schema of its own for one test on the server
// dsn names and returns a DSN whose search_path points at it. The schema is
// dropped when the test ends.
func FreshPostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	return storagetest.FreshPostgresSchema(t, dsn)
}

// ProxiedPostgres gives a fresh schema's DSN that reaches PostgreSQL through
// a dbproxy, so a test can freeze or stop the database under a running
// server; target is the real server's address. The proxy stops when the
// test ends.
func ProxiedPostgres(t testing.TB, dsn string) (dbURL string, proxy *dbproxy.Proxy, target string) {
	t.Helper()
	u, err := url.Parse(FreshPostgresSchema(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if proxy, err = dbproxy.Start(u.Host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Stop)
	target, u.Host = u.Host, proxy.Addr()
	return u.String(), proxy, target
}
