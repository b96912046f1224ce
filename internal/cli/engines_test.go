package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// freshDB is a database of one engine that `stepgate migrate up` has just
// migrated, with a data directory and a master key of its own, and the
// store open on it for what no command makes or shows.
type freshDB struct {
	dir, url string
	key      string // STEPGATE_MASTER_KEY
	store    *sqlstore.Store
}

// onFreshDBs runs fn in a subtest per engine (storagetest.Databases: SQLite
// always, PostgreSQL when STEPGATE_TEST_POSTGRES_DSN is set) on a freshDB.
func onFreshDBs(t *testing.T, fn func(t *testing.T, f freshDB)) {
	for name, database := range storagetest.Databases() {
		t.Run(name, func(t *testing.T) {
			raw := make([]byte, 32)
			rand.Read(raw)
			f := freshDB{dir: t.TempDir(), key: base64.StdEncoding.EncodeToString(raw)}
			f.url = database(t, f.dir)
			var out, errs bytes.Buffer
			e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errs, now: func() time.Time { return cmdClock },
				getenv: func(k string) string {
					if k == "STEPGATE_MASTER_KEY" {
						return f.key
					}
					return ""
				}}
			if code := runEnv(t.Context(), e, []string{"migrate", "up", "--database", f.url}); code != 0 {
				t.Fatalf("migrate up: exit %d\n%s%s", code, &out, &errs)
			}
			st, err := sqlstore.Open(t.Context(), f.url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			f.store = st
			fn(t, f)
		})
	}
}
