// Package sqlstore implements storage.Store with sqlx over SQLite
// (modernc.org/sqlite, pure Go) and PostgreSQL (github.com/lib/pq). Queries
// are written once with ? placeholders and rebound per driver. All of them
// are portable (RETURNING and ON CONFLICT work on both engines); a statement
// that ever has to differ goes in dialect.go.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
)

// Store is the sqlx implementation of storage.Store.
type Store struct {
	db      *sqlx.DB
	q       sqlx.ExtContext // db, or the transaction inside InTx
	dialect string
	timeout time.Duration // bounds every statement and every transaction
	txEnd   time.Time     // inside InTx: the transaction's deadline
}

// DefaultTimeout bounds each database operation (one statement, or one
// transaction with all its statements) unless Open is given another.
const DefaultTimeout = 5 * time.Second

// Option configures Open.
type Option func(*options)

type options struct{ timeout time.Duration }

// Timeout bounds every statement and every transaction: past it the
// operation fails with storage.ErrUnavailable, so a hung database never
// hangs a request. It also sets SQLite's busy_timeout and, on PostgreSQL
// unless the URL sets them, connect_timeout, statement_timeout, lock_timeout
// and idle_in_transaction_session_timeout, and a read/write deadline on the
// connection (a database that stops answering without closing the socket
// would otherwise block the driver forever). d <= 0 keeps DefaultTimeout.
func Timeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

var _ storage.Store = (*Store)(nil)

// Location is a parsed --database URL.
type Location struct {
	Dialect string // migrations.SQLite or migrations.Postgres
	DSN     string // what the driver is opened with
	Path    string // SQLite file path; empty for PostgreSQL
}

// ParseURL understands sqlite:///abs/path.db, sqlite://relative.db and
// postgres://… (or postgresql://…).
func ParseURL(raw string) (Location, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		p, _, _ := strings.Cut(strings.TrimPrefix(raw, "sqlite://"), "?")
		if p == "" {
			return Location{}, errors.New("database URL sqlite:// needs a file path, e.g. sqlite://data/stepgate.db")
		}
		return Location{Dialect: migrations.SQLite, DSN: sqliteDSN(p, DefaultTimeout), Path: p}, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return Location{}, errors.New("database URL is not a valid postgres:// URL")
		}
		return Location{Dialect: migrations.Postgres, DSN: raw}, nil
	default:
		return Location{}, errors.New("database URL must start with sqlite:// or postgres://")
	}
}

// sqliteDSN opens path in WAL mode with foreign keys, write transactions
// that take the write lock at BEGIN (so they run one at a time), and a busy
// timeout no longer than the operation timeout.
func sqliteDSN(path string, busy time.Duration) string {
	return fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)"+
		"&_pragma=synchronous(NORMAL)&_txlock=immediate", path, busy.Milliseconds())
}

// Open connects to the database. It does not migrate; see migrations.Up.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	loc, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var db *sqlx.DB
	switch loc.Dialect {
	case migrations.SQLite:
		if err := os.MkdirAll(filepath.Dir(loc.Path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		db, err = sqlx.Open("sqlite", sqliteDSN(loc.Path, o.timeout))
		if err == nil {
			// One writer at a time is SQLite's rule anyway; a small pool
			// keeps readers concurrent under WAL.
			db.SetMaxOpenConns(8)
		}
	case migrations.Postgres:
		db, err = openPostgres(loc.DSN, o.timeout)
		if err == nil {
			db.SetMaxOpenConns(20)
			db.SetMaxIdleConns(10)
			db.SetConnMaxLifetime(30 * time.Minute)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, max(10*time.Second, o.timeout))
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", loc.Dialect, err)
	}
	return &Store{db: db, q: db, dialect: loc.Dialect, timeout: o.timeout}, nil
}

// DB exposes the pool for migrations and health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// Dialect is migrations.SQLite or migrations.Postgres.
func (s *Store) Dialect() string { return s.dialect }

// Close closes the pool.
func (s *Store) Close() error { return s.db.Close() }

// Timeout is the bound on each operation (see the Timeout option).
func (s *Store) Timeout() time.Duration { return s.timeout }

// Ping checks the database answers, within the operation timeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	return mapErr(s.db.PingContext(ctx))
}

// opCtx bounds one statement: by the operation timeout, and inside a
// transaction also by the transaction's own deadline.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	end := time.Now().Add(s.timeout)
	if !s.txEnd.IsZero() && s.txEnd.Before(end) {
		end = s.txEnd
	}
	return context.WithDeadline(ctx, end)
}

// InTx runs fn in a transaction. Nested calls join the outer transaction.
// The rollback is deferred so that a panic in fn (which gin's recovery turns
// into a 500) does not leave the transaction holding its locks.
func (s *Store) InTx(ctx context.Context, fn func(tx storage.Store) error) error {
	if _, inTx := s.q.(*sqlx.Tx); inTx {
		return fn(s)
	}
	// The whole transaction, not only each statement, has the operation
	// timeout: a transaction left open holds its locks against everyone.
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	end, _ := ctx.Deadline()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback() // after Commit, a no-op
	if err := fn(&Store{db: s.db, q: tx, dialect: s.dialect, timeout: s.timeout, txEnd: end}); err != nil {
		return err
	}
	return mapErr(tx.Commit())
}

// Serialize takes a named transaction lock (see storage.Store). PostgreSQL:
// a transaction-scoped advisory lock keyed by the name's hash. SQLite: InTx
// begins IMMEDIATE, so a write transaction already holds the database's one
// write lock from its first statement and transactions run one at a time.
func (s *Store) Serialize(ctx context.Context, name string) error {
	if _, inTx := s.q.(*sqlx.Tx); !inTx {
		return errors.New("sqlstore: Serialize needs a transaction (call it inside InTx)")
	}
	if s.dialect != migrations.Postgres {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte("stepgate.serialize." + name))
	_, err := s.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(h.Sum64()))
	return err
}

// --- helpers shared by every table file ---

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, cancel := s.opCtx(ctx)
	defer cancel()
	res, err := s.q.ExecContext(ctx, s.db.Rebind(query), args...)
	return res, mapErr(err)
}

// execOne runs a statement that must touch exactly one row; zero rows is
// ErrNotFound.
func (s *Store) execOne(ctx context.Context, query string, args ...any) error {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// execCount runs a statement and returns how many rows it touched.
func (s *Store) execCount(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}

// usedOrMissing tells, after a conditional update matched nothing, whether
// the record exists (ErrAlreadyUsed) or not (ErrNotFound).
func (s *Store) usedOrMissing(ctx context.Context, countQuery, id string) error {
	var n int
	if err := s.queryRow(ctx, countQuery, id).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrAlreadyUsed
}

// row is a query's single row; its statement's deadline ends with Scan.
type row struct {
	r      *sqlx.Row
	cancel context.CancelFunc
}

func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return r.r.Scan(dest...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) row {
	ctx, cancel := s.opCtx(ctx)
	return row{r: s.q.QueryRowxContext(ctx, s.db.Rebind(query), args...), cancel: cancel}
}

// query runs a statement returning rows; call done when finished with them.
func (s *Store) query(ctx context.Context, query string, args ...any) (rows *sqlx.Rows, done func(), err error) {
	ctx, cancel := s.opCtx(ctx)
	rows, err = s.q.QueryxContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		cancel()
		return nil, nil, mapErr(err)
	}
	return rows, func() { rows.Close(); cancel() }, nil
}

type scanner interface{ Scan(dest ...any) error }

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, s *Store, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, done, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer done()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, mapErr(rows.Err())
}

// mapErr turns driver errors into the storage sentinels and keeps SQL text
// out of anything that might reach a user.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return storage.ErrConflict
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return storage.ErrConflict
		}
	}
	for _, sentinel := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrAlreadyUsed,
		storage.ErrLocked, storage.ErrExpired, storage.ErrSchemaNotCurrent, storage.ErrInvalid, storage.ErrUnavailable} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
}

// ms converts a time to the stored Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// blob never hands the driver a nil slice: both drivers would bind NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// msTime scans stored Unix milliseconds into a time.Time; 0 is the zero time.
// Use it as (*msTime)(&record.Field) in Scan.
type msTime time.Time

func (t *msTime) Scan(src any) error {
	var v int64
	switch x := src.(type) {
	case int64:
		v = x
	case nil:
		v = 0
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as time", src)
	}
	if v == 0 {
		*t = msTime(time.Time{})
	} else {
		*t = msTime(time.UnixMilli(v).UTC())
	}
	return nil
}

// jsonList stores a string slice as a JSON array in a TEXT column.
type jsonList []string

func (l jsonList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

func (l *jsonList) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	case nil:
		*l = nil
		return nil
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as list", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*l = out
	return nil
}

// jsonValue stores any JSON-encodable value in a TEXT column.
type jsonValue struct{ v any }

func (j jsonValue) Value() (driver.Value, error) {
	b, err := json.Marshal(j.v)
	return string(b), err
}

func (j jsonValue) Scan(src any) error {
	switch x := src.(type) {
	case string:
		return json.Unmarshal([]byte(x), j.v)
	case []byte:
		return json.Unmarshal(x, j.v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as JSON", src)
	}
}
