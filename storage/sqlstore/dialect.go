package sqlstore

import (
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"

	"github.com/stepgate/stepgate/migrations"
)

// foldFunction is SQLite's name for Go's strings.ToLower, registered for
// every SQLite connection: SQLite's own LOWER folds only ASCII letters, so a
// search for "élodie" would miss "Élodie" there but not on PostgreSQL
// (whose LOWER folds by the database's LC_CTYPE; a UTF-8 one folds them).
const foldFunction = "stepgate_fold"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(foldFunction, 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			default:
				return v, nil
			}
		})
}

// fold lower-cases column for a case-insensitive comparison with a
// pattern lower-cased in Go, the same on both engines.
func (s *Store) fold(column string) string {
	if s.dialect == migrations.Postgres {
		return "LOWER(" + column + ")"
	}
	return foldFunction + "(" + column + ")"
}

// forUpdate ends a SELECT that reads a row a transaction is about to write:
// on PostgreSQL it locks the row until the transaction ends, so a concurrent
// writer waits instead of being overwritten. SQLite has no row locks and
// needs none: InTx begins IMMEDIATE, which takes the database's write lock.
func (s *Store) forUpdate() string {
	if s.dialect == migrations.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// bytewise makes column compare and sort by its bytes, as SQLite's default
// BINARY collation does; PostgreSQL's database collation (en_US and the
// like) would order "a.b" and "ab" differently, and a cursor's position
// with it.
func (s *Store) bytewise(column string) string {
	if s.dialect == migrations.Postgres {
		return column + ` COLLATE "C"`
	}
	return column
}
