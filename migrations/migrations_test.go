package migrations

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite"

	"github.com/stepgate/stepgate/storage/storagetest"
)

func TestDialectsHaveTheSameMigrations(t *testing.T) {
	pg, err := All(Postgres)
	if err != nil {
		t.Fatal(err)
	}
	lite, err := All(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) == 0 || len(pg) != len(lite) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(pg), len(lite))
	}
	for i := range pg {
		if pg[i].Version != lite[i].Version || pg[i].Name != lite[i].Name {
			t.Errorf("migration %d: postgres %04d_%s, sqlite %04d_%s",
				i, pg[i].Version, pg[i].Name, lite[i].Version, lite[i].Name)
		}
	}
	if _, err := All("mysql"); err == nil {
		t.Error("All accepted an unknown dialect")
	}
}

// Both dialects must create the same tables and indexes.
func TestDialectsCreateTheSameObjects(t *testing.T) {
	pg, lite := createdObjects(t, Postgres), createdObjects(t, SQLite)
	if !slices.Equal(pg, lite) {
		t.Errorf("objects differ\npostgres: %v\n  sqlite: %v", pg, lite)
	}
}

var createRE = regexp.MustCompile(`(?i)CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)`)

// createdObjects lists "table x" / "index y" for every CREATE in the
// dialect's migrations.
func createdObjects(t *testing.T, dialect string) []string {
	t.Helper()
	all, err := All(dialect)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range all {
		for _, c := range createRE.FindAllStringSubmatch(m.SQL, -1) {
			out = append(out, strings.ToLower(c[1])+" "+c[2])
		}
	}
	slices.Sort(out)
	return out
}

type engine struct {
	dialect string
	open    func(t *testing.T) *sqlx.DB
	// objects lists the tables and indexes present in the database.
	objects string
}

func engines(t *testing.T) []engine {
	es := []engine{{
		dialect: SQLite,
		open: func(t *testing.T) *sqlx.DB {
			// Pragmas as sqlstore opens the database: concurrent migrators
			// wait for each other's write transactions.
			db, err := sqlx.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+
				"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_txlock=immediate")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		objects: `SELECT type || ' ' || name FROM sqlite_master
			WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'`,
	}}
	if os.Getenv(storagetest.PostgresEnv) == "" {
		t.Logf("%s not set: PostgreSQL not tested", storagetest.PostgresEnv)
		return es
	}
	return append(es, engine{
		dialect: Postgres,
		open:    openPostgresSchema,
		objects: `SELECT 'table ' || table_name FROM information_schema.tables WHERE table_schema = current_schema()
			UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = current_schema()`,
	})
}

// openPostgresSchema connects to a fresh schema, dropped when the test ends.
func openPostgresSchema(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", storagetest.FreshPostgresSchema(t, os.Getenv(storagetest.PostgresEnv)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func fixedNow() time.Time { return time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC) }

func TestUp(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.dialect, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			done, err := Up(ctx, db, e.dialect, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != Latest(e.dialect) {
				t.Errorf("first Up applied %v, want 1..%d", done, Latest(e.dialect))
			}

			// Every statement of every file ran, not just the first one.
			var got []string
			if err := db.SelectContext(ctx, &got, e.objects); err != nil {
				t.Fatal(err)
			}
			want := append(createdObjects(t, e.dialect), "table schema_migrations")
			for _, obj := range want {
				if !slices.Contains(got, obj) {
					t.Errorf("%s missing after Up (have %v)", obj, got)
				}
			}

			done, err = Up(ctx, db, e.dialect, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != 0 {
				t.Errorf("second Up applied %v, want nothing", done)
			}
			st, maxApplied, err := StatusOf(ctx, db, e.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if maxApplied != Latest(e.dialect) {
				t.Errorf("highest applied version %d, want %d", maxApplied, Latest(e.dialect))
			}
			for _, s := range st {
				if !s.AppliedAt.Equal(fixedNow()) {
					t.Errorf("%04d_%s applied at %v, want %v", s.Version, s.Name, s.AppliedAt, fixedNow())
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.dialect, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			err := Check(ctx, db, e.dialect)
			if err == nil || !strings.Contains(err.Error(), "pending") {
				t.Errorf("Check on an empty database = %v, want pending migrations", err)
			}
			if _, err := Up(ctx, db, e.dialect, fixedNow); err != nil {
				t.Fatal(err)
			}
			if err := Check(ctx, db, e.dialect); err != nil {
				t.Errorf("Check after Up = %v", err)
			}
			newer := Latest(e.dialect) + 1
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				newer, "from_the_future", fixedNow().UnixMilli()); err != nil {
				t.Fatal(err)
			}
			err = Check(ctx, db, e.dialect)
			if err == nil || !strings.Contains(err.Error(), "newer") {
				t.Errorf("Check with version %d applied = %v, want a newer-schema error", newer, err)
			}
		})
	}
}

// Check is what /readyz runs: on a database whose tables are gone it says
// "pending" and creates nothing, not even the bookkeeping table.
func TestCheckIsReadOnly(t *testing.T) {
	for _, e := range engines(t) {
		t.Run(e.dialect, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			if _, err := Up(ctx, db, e.dialect, fixedNow); err != nil {
				t.Fatal(err)
			}
			var objects []string
			if err := db.SelectContext(ctx, &objects, e.objects); err != nil {
				t.Fatal(err)
			}
			if e.dialect == SQLite {
				db.MustExecContext(ctx, `PRAGMA foreign_keys = OFF`)
			}
			for _, o := range objects {
				if name, ok := strings.CutPrefix(o, "table "); ok {
					db.MustExecContext(ctx, `DROP TABLE IF EXISTS `+name+dropCascade(e.dialect))
				}
			}
			for range 2 {
				if err := Check(ctx, db, e.dialect); err == nil || !strings.Contains(err.Error(), "pending") {
					t.Errorf("Check on a database without tables = %v, want pending migrations", err)
				}
				if _, _, err := StatusOf(ctx, db, e.dialect); err != nil {
					t.Errorf("StatusOf: %v", err)
				}
			}
			var left []string
			if err := db.SelectContext(ctx, &left, e.objects); err != nil {
				t.Fatal(err)
			}
			if len(left) != 0 {
				t.Errorf("Check and StatusOf created %v", left)
			}
		})
	}
}

func dropCascade(dialect string) string {
	if dialect == Postgres {
		return " CASCADE"
	}
	return ""
}

// Replicas started together with --auto-migrate run Up on one fresh database
// at once. One round catches a missing lock only sometimes, so it runs
// several, each with every connection open beforehand so the calls overlap.
func TestConcurrentUpAppliesEachMigrationOnce(t *testing.T) {
	const replicas, rounds = 8, 8
	for _, e := range engines(t) {
		t.Run(e.dialect, func(t *testing.T) {
			for round := range rounds {
				db := e.open(t)
				var warm sync.WaitGroup
				for range replicas {
					warm.Go(func() { db.Ping() })
				}
				warm.Wait()

				applied := make([][]int, replicas)
				errs := make([]error, replicas)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range replicas {
					wg.Go(func() {
						<-start
						applied[i], errs[i] = Up(context.Background(), db, e.dialect, fixedNow)
					})
				}
				close(start)
				wg.Wait()

				var all []int
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d, replica %d: %v", round, i, err)
					}
					all = append(all, applied[i]...)
				}
				slices.Sort(all)
				var want []int
				for v := range Latest(e.dialect) {
					want = append(want, v+1)
				}
				if !slices.Equal(all, want) {
					t.Fatalf("round %d: replicas applied %v together, want each of %v once", round, all, want)
				}
			}
		})
	}
}
