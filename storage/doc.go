// Package storage is StepGate's storage contract: the records every other
// package reads and writes, the Store interface that persists them, the
// sentinel errors callers branch on, and RunConformance, the suite that proves
// an implementation keeps the contract. The one implementation lives in
// storage/sqlstore and serves SQLite and PostgreSQL alike.
package storage
