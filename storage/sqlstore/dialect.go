package sqlstore

import "github.com/stepgate/stepgate/migrations"

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
