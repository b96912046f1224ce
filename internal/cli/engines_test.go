package cli

import (
	"bytes"
	"context"
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
			fixed := func() time.Time { return cmdClock }
			if code, out, errs := runCommand(masterKeyEnv(f.key), fixed, "", "migrate", "up", "--database", f.url); code != 0 {
				t.Fatalf("migrate up: exit %d\n%s%s", code, out, errs)
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

// runCommand runs one command line as the binary runs it, with getenv and
// now as its environment and clock, and returns its exit code, standard
// output and standard error.
func runCommand(getenv func(string) string, now func() time.Time, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	e := env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errs, getenv: getenv, now: now}
	code = runEnv(context.Background(), e, args)
	return code, out.String(), errs.String()
}

// masterKeyEnv is an environment with only STEPGATE_MASTER_KEY set, to key.
func masterKeyEnv(key string) func(string) string {
	return func(k string) string {
		if k == "STEPGATE_MASTER_KEY" {
			return key
		}
		return ""
	}
}
