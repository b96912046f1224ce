package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects StepGate speaks.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Status is one migration and whether it is applied.
type Status struct {
	Migration
	AppliedAt time.Time // zero when pending
}

// All returns the dialect's migrations in order.
func All(dialect string) ([]Migration, error) {
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	entries, err := fs.ReadDir(files, dialect)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".up.sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".up.sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migrations: bad file name %s", name)
		}
		body, err := files.ReadFile(path.Join(dialect, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s versions must be 1..n without gaps, found %d at position %d", dialect, m.Version, i+1)
		}
	}
	return out, nil
}

// Latest is the highest version this binary knows for the dialect.
func Latest(dialect string) int {
	all, err := All(dialect)
	if err != nil {
		return 0
	}
	return len(all)
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// bookkeepingExists asks the catalog (never creating anything) whether
// schema_migrations exists; on PostgreSQL along the search_path.
func bookkeepingExists(ctx context.Context, db *sqlx.DB, dialect string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if dialect == Postgres {
		q = `SELECT COUNT(*) FROM (SELECT to_regclass('schema_migrations') AS t) r WHERE t IS NOT NULL`
	}
	var n int
	if err := db.GetContext(ctx, &n, q); err != nil {
		return false, fmt.Errorf("migrations: look for schema_migrations: %w", err)
	}
	return n > 0, nil
}

// appliedVersions returns the applied versions and their times. It only
// reads: a database without the bookkeeping table has none applied (and is
// left without it; only Up creates it).
func appliedVersions(ctx context.Context, db *sqlx.DB, dialect string) (map[int]time.Time, error) {
	out := map[int]time.Time{}
	if ok, err := bookkeepingExists(ctx, db, dialect); err != nil || !ok {
		return out, err
	}
	rows, err := db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrations: read applied: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			return nil, err
		}
		out[v] = time.UnixMilli(at).UTC()
	}
	return out, rows.Err()
}

// createBookkeeping creates schema_migrations under the migration lock:
// PostgreSQL can fail two concurrent CREATE TABLE IF NOT EXISTS with a
// duplicate key in its catalog.
func createBookkeeping(ctx context.Context, db *sqlx.DB, dialect string) error {
	err := locked(ctx, db, dialect, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, createTable)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrations: create bookkeeping table: %w", err)
	}
	return nil
}

// StatusOf lists every known migration with its applied time, plus the
// highest applied version (which may exceed what this binary knows). It only
// reads.
func StatusOf(ctx context.Context, db *sqlx.DB, dialect string) ([]Status, int, error) {
	all, err := All(dialect)
	if err != nil {
		return nil, 0, err
	}
	applied, err := appliedVersions(ctx, db, dialect)
	if err != nil {
		return nil, 0, err
	}
	maxApplied := 0
	for v := range applied {
		maxApplied = max(maxApplied, v)
	}
	out := make([]Status, len(all))
	for i, m := range all {
		out[i] = Status{Migration: m, AppliedAt: applied[m.Version]}
	}
	return out, maxApplied, nil
}

// Check returns nil when the schema is exactly at Latest, and otherwise an
// error saying whether it is behind or ahead. It only reads (readiness probes
// call it): it never creates or changes anything, even on an empty database.
func Check(ctx context.Context, db *sqlx.DB, dialect string) error {
	st, maxApplied, err := StatusOf(ctx, db, dialect)
	if err != nil {
		return err
	}
	if maxApplied > len(st) {
		return fmt.Errorf("database schema is at version %d, newer than this binary knows (%d): upgrade StepGate", maxApplied, len(st))
	}
	pending := 0
	for _, s := range st {
		if s.AppliedAt.IsZero() {
			pending++
		}
	}
	if pending > 0 {
		return fmt.Errorf("database schema has %d pending migration(s): run `stepgate migrate up` or start with --auto-migrate", pending)
	}
	return nil
}

// Up applies every pending migration, each in its own transaction, and
// returns the versions it applied. Replicas starting together are safe: each
// step holds the migration lock (see locked) and re-checks inside it.
func Up(ctx context.Context, db *sqlx.DB, dialect string, now func() time.Time) ([]int, error) {
	all, err := All(dialect)
	if err != nil {
		return nil, err
	}
	if err := createBookkeeping(ctx, db, dialect); err != nil {
		return nil, err
	}
	var done []int
	for _, m := range all {
		applied, err := apply(ctx, db, dialect, m, now())
		if err != nil {
			return done, fmt.Errorf("migrations: %04d_%s: %w", m.Version, m.Name, err)
		}
		if applied {
			done = append(done, m.Version)
		}
	}
	return done, nil
}

func apply(ctx context.Context, db *sqlx.DB, dialect string, m Migration, now time.Time) (applied bool, err error) {
	err = locked(ctx, db, dialect, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.Version, m.Name, now.UnixMilli()); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// locked runs fn in a transaction holding the migration lock, so replicas
// change the schema one at a time: on PostgreSQL a transaction-scoped
// advisory lock, on SQLite the write transaction itself (sqlstore opens it
// with _txlock=immediate).
func locked(ctx context.Context, db *sqlx.DB, dialect string, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if dialect == Postgres {
		// Any constant works; it only has to be the same for every replica.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7363746570)`); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
