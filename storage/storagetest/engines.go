package storagetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq" // PostgreSQL for FreshPostgresSchema
)

// PostgresEnv names the variable with the PostgreSQL DSN tests run on too.
const PostgresEnv = "STEPGATE_TEST_POSTGRES_DSN"

// Databases lists the databases a test runs on, by engine name: SQLite
// always (a file in the directory given), PostgreSQL when PostgresEnv is
// set (a fresh schema of the test's own). Each function returns a
// --database URL.
func Databases() map[string]func(t testing.TB, dir string) string {
	m := map[string]func(t testing.TB, dir string) string{
		"sqlite": func(_ testing.TB, dir string) string { return "sqlite://" + filepath.Join(dir, "stepgate.db") },
	}
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		m["postgres"] = func(t testing.TB, _ string) string { return FreshPostgresSchema(t, dsn) }
	}
	return m
}

// FreshPostgresSchema creates a schema of the test's own, dropped when the
// test ends, and returns dsn with its search_path pointing there.
func FreshPostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
