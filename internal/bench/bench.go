package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stepgate/stepgate/admin"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// Options are what a run is made with.
type Options struct {
	// Users is how many users are seeded, each with a bound authenticator.
	Users int
	// Concurrency is how many virtual users each closed-loop scenario runs
	// at once.
	Concurrency int
	// Duration is the measured time of each scenario, Warmup the
	// unmeasured time before it.
	Duration, Warmup time.Duration

	// Executable is the stepgate binary the server and the bare server are
	// started from (os.Executable()).
	Executable string
	// Database is where the started server's fresh database goes: "" for
	// SQLite in a temporary directory, or a postgres:// URL in whose
	// database a schema is created for the run and dropped after it.
	Database string
	// ServerArgs are settings given to the started server after the
	// benchmark's own (--signing-algorithm ES256, --log-level warn…).
	ServerArgs []string
	// Running, when set, is a server to drive instead of starting one.
	Running *Running

	// Actor is who the audit rows of the seeded applications name.
	Actor admin.Actor
	// Baseline is an earlier run each rate is also divided by (nil: none).
	Baseline *Report
	// Progress gets a line as each step begins.
	Progress io.Writer
}

// Running is a server the benchmark drives but did not start.
type Running struct {
	URL string // its issuer
	// PID is its process, for its CPU time and peak RSS; 0 leaves them
	// unmeasured.
	PID int
	// Store is its database, which the benchmark seeds, and Sealer its
	// master key, with which the seeded TOTP secrets are sealed.
	Store  *sqlstore.Store
	Sealer Sealer
}

// Run seeds, starts what it needs, runs every scenario and returns the
// report. An error means the run could not be made at all; operations that
// failed during it are counted in the report's figures.
func Run(ctx context.Context, o Options) (*Report, error) {
	switch {
	case o.Users < 1:
		return nil, errors.New("bench: at least one user")
	case o.Concurrency < 1:
		return nil, errors.New("bench: concurrency of at least one")
	case o.Duration <= 0 || o.Warmup < 0:
		return nil, errors.New("bench: a positive duration and a warm-up that is not negative")
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := &Report{Started: time.Now(), Machine: machine(), Settings: Settings{Users: o.Users, Concurrency: o.Concurrency,
		Duration: o.Duration.String(), Warmup: o.Warmup.String(), ServerArgs: o.ServerArgs}}
	run := randomHex()[:6]
	dir, err := os.MkdirTemp("", "stepgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var (
		fx     *fixture
		issuer string
		server *process
	)
	if o.Running != nil {
		st := o.Running.Store
		issuer = o.Running.URL
		r.Settings.Engine, r.Settings.Database = st.Dialect(), "the running server's"
		r.Settings.Server, r.Settings.ServerPID = issuer, o.Running.PID
		if o.Running.PID > 0 {
			if server, err = openProcess(o.Running.PID); err != nil {
				return nil, fmt.Errorf("bench: --pid %d: %v", o.Running.PID, err)
			}
		} else {
			r.Notes = append(r.Notes, "no --pid: the server's CPU time and RSS are not measured")
		}
		if fx, err = seedFor(ctx, r, o, st, o.Running.Sealer, run); err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, fmt.Sprintf("the seeded users (bench-%s-N@example.com) and applications (bench %s …) "+
			"stay in the running server's database", run, run))
	} else {
		database, drop, err := freshDatabase(ctx, o.Database, dir, run)
		if err != nil {
			return nil, err
		}
		defer drop()
		r.Settings.Engine, r.Settings.Database = migrations.SQLite, database
		if strings.HasPrefix(database, "postgres") {
			r.Settings.Engine, r.Settings.Database = migrations.Postgres, "schema "+schemaOf(database)
		}
		// Seeding transactions are long on a busy machine; the server's
		// own bound is the --database-timeout it is given.
		st, err := sqlstore.Open(ctx, database, sqlstore.Timeout(time.Minute))
		if err != nil {
			return nil, err
		}
		defer st.Close()
		if _, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now); err != nil {
			return nil, err
		}
		raw := make([]byte, 32)
		rand.Read(raw)
		mk, err := keys.NewMasterKey(raw)
		if err != nil {
			return nil, err
		}
		keyFile := filepath.Join(dir, "master.key")
		if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(raw)), 0o600); err != nil {
			return nil, err
		}
		// Seeded before the server starts: a --dev server that finds users
		// makes no demo accounts.
		if fx, err = seedFor(ctx, r, o, st, mk, run); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Progress, "starting StepGate on %s\n", r.Settings.Engine)
		srv, err := startStepGate(ctx, o.Executable, dir, database, keyFile, o.ServerArgs)
		if err != nil {
			return nil, err
		}
		defer srv.stop() // before its database goes
		issuer, server = srv.url, srv.proc
		r.Settings.Server, r.Settings.ServerPID = "child", srv.cmd.Process.Pid
		if server == nil {
			r.Notes = append(r.Notes, "the server's /proc cannot be read here: its CPU time and RSS are not measured")
		}
	}
	sc := &scenarios{o: o, r: r, fx: fx, server: server, dir: dir}
	if err := sc.run(ctx, issuer); err != nil {
		return nil, err
	}
	r.ratios(o.Baseline)
	r.goals(o.Baseline)
	r.Seconds = time.Since(r.Started).Seconds()
	return r, nil
}

// seedFor seeds the run's users and applications and records how long it
// took.
func seedFor(ctx context.Context, r *Report, o Options, st *sqlstore.Store, sealer Sealer, run string) (*fixture, error) {
	fmt.Fprintf(o.Progress, "seeding %d users with bound TOTP\n", o.Users)
	t := time.Now()
	workers := 1 // SQLite has one writer
	if st.Dialect() == migrations.Postgres {
		workers = 4
	}
	fx, err := seed(ctx, st, sealer, &admin.Service{Store: st}, o.Actor, o.Users, workers, run, o.Progress)
	if err != nil {
		return nil, err
	}
	r.SeedSeconds = time.Since(t).Seconds()
	return fx, nil
}

// freshDatabase makes the started server's database: SQLite in dir, or a
// schema of its own in the PostgreSQL database of url. drop removes it.
func freshDatabase(ctx context.Context, url, dir, run string) (database string, drop func(), err error) {
	if url == "" {
		return "sqlite://" + filepath.Join(dir, "stepgate.db"), func() {}, nil
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return "", nil, errors.New("bench: the database must be a postgres:// URL (SQLite is a fresh file of the run's own)")
	}
	st, err := sqlstore.Open(ctx, url)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	schema := "bench_" + run + "_" + hex.EncodeToString(b)
	if _, err := st.DB().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		st.Close()
		return "", nil, fmt.Errorf("bench: creating schema %s: %w", schema, err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	drop = func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st.DB().ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE")
		st.Close()
	}
	return url + sep + "search_path=" + schema, drop, nil
}

// schemaOf is the search_path of a URL freshDatabase made.
func schemaOf(database string) string {
	_, s, _ := strings.Cut(database, "search_path=")
	s, _, _ = strings.Cut(s, "&")
	return s
}
