package admin

import (
	"slices"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// eachClientsEngine runs fn once per engine (onEngines), with a Service on
// a fresh store whose clock the test moves.
func eachClientsEngine(t *testing.T, fn func(t *testing.T, s *Service, clock *clientsClock)) {
	t.Helper()
	onEngines(t, func(t *testing.T, st storage.Store) {
		clock := &clientsClock{now: time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)}
		fn(t, &Service{Store: st, Now: clock.Now}, clock)
	})
}

// clientsClock is a settable clock.
type clientsClock struct{ now time.Time }

func (c *clientsClock) Now() time.Time { return c.now }

// clientsAudit lists the audit rows of one type, oldest first.
func clientsAudit(t *testing.T, st storage.Store, typ string) []storage.AuditEvent {
	t.Helper()
	rows := auditOf(t, st, typ)
	slices.Reverse(rows)
	return rows
}
