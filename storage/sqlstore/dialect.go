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
