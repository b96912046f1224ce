package admin

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// onEngines runs fn once per engine, in a subtest named after it, with a
// fresh, migrated, empty store: SQLite always, PostgreSQL (a schema of the
// test's own, dropped afterwards) when storagetest.PostgresEnv names a server.
func onEngines(t *testing.T, fn func(t *testing.T, st storage.Store)) {
	t.Helper()
	databases := storagetest.Databases()
	for _, name := range []string{"sqlite", "postgres"} {
		database, ok := databases[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			// Not t.TempDir: a repeated subtest name puts "#01" in it,
			// which the SQLite driver's file: URI cuts off.
			dir, err := os.MkdirTemp("", "stepgate-admin-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			ctx := context.Background()
			st, err := sqlstore.Open(ctx, database(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now); err != nil {
				t.Fatal(err)
			}
			fn(t, st)
		})
	}
}

// cheapHashing keeps argon2 fast in tests; the parameters are still valid.
var cheapHashing = login.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testT0 is the time the tests' clock starts at.
var testT0 = time.Date(2031, 5, 17, 10, 30, 15, 123_000_000, time.UTC)

// serviceAt returns a service over st whose clock reads *now.
func serviceAt(st storage.Store, now *time.Time) *Service {
	return &Service{
		Store:   st,
		Now:     func() time.Time { return *now },
		Hasher:  login.NewHasher(cheapHashing, 4, 10*time.Second),
		CodeKey: []byte("0123456789abcdef0123456789abcdef"),
	}
}
