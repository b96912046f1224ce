package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/stepgate/stepgate/internal/bench"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// benchCmd is the load benchmark (package internal/bench). It takes the
// configuration like every command: --database names the PostgreSQL
// database to make its fresh schema in (an SQLite one is ignored: the run
// has its own file), or with --url the running server's database, which it
// seeds with the master key the server has.
type benchCmd struct {
	Users       int           `default:"1000" placeholder:"N" help:"users to seed, each with a bound authenticator"`
	Concurrency int           `default:"8" placeholder:"N" help:"virtual users at once in each closed-loop scenario"`
	Duration    time.Duration `default:"8s" placeholder:"DURATION" help:"measured time of each scenario"`
	Warmup      time.Duration `default:"1s" placeholder:"DURATION" help:"unmeasured time before each scenario"`
	URL         string        `name:"url" placeholder:"ISSUER" help:"drive this running server instead of starting one; it seeds the configured --database with the configured master key"`
	PID         int           `name:"pid" placeholder:"PID" help:"with --url: the server's process, whose CPU time and peak RSS are then measured"`
	JSON        bool          `name:"json" help:"print the report as JSON instead of a table"`
	JSONOut     string        `name:"json-out" placeholder:"FILE" help:"also write the report as JSON to FILE"`
	Baseline    string        `name:"baseline" placeholder:"FILE" help:"a report of an earlier run (--json-out): each rate is also divided by its own there"`
	BareServer  string        `name:"bare-server" hidden:"" placeholder:"DIR" help:"the reference server the benchmark starts: serve DIR's discovery and JWKS bytes with bare net/http"`
}

func (c *benchCmd) run(ctx context.Context, e env, cfg *Config, log *slog.Logger) error {
	if c.BareServer != "" {
		return bench.ServeBare(ctx, c.BareServer, e.stdout)
	}
	switch {
	case c.Users < 1:
		return usagef("--users must be at least 1")
	case c.Concurrency < 1:
		return usagef("--concurrency must be at least 1")
	case c.Duration <= 0:
		return usagef("--duration must be positive")
	case c.Warmup < 0:
		return usagef("--warmup must not be negative")
	case c.PID != 0 && c.URL == "":
		return usagef("--pid is the process of the server --url names; without --url the benchmark starts its own")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	o := bench.Options{Users: c.Users, Concurrency: c.Concurrency, Duration: c.Duration, Warmup: c.Warmup,
		Executable: exe, Actor: osActor(e), Progress: e.stderr,
		ServerArgs: []string{"--signing-algorithm", cfg.SigningAlgorithm, "--log-level", cfg.LogLevel,
			"--database-timeout", cfg.DatabaseTimeout.String()}}
	if c.Baseline != "" {
		if o.Baseline, err = bench.ReadReport(c.Baseline); err != nil {
			return usagef("--baseline: %v", err)
		}
	}
	if c.URL != "" {
		a, err := openAdmin(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer a.close()
		o.Running = &bench.Running{URL: strings.TrimSuffix(c.URL, "/"), PID: c.PID, Store: a.store, Sealer: a.master}
	} else if loc, err := sqlstore.ParseURL(cfg.Database); err == nil && loc.Path == "" {
		o.Database = cfg.Database
	}
	r, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if c.JSONOut != "" {
		f, err := os.Create(c.JSONOut)
		if err != nil {
			return err
		}
		if err := r.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if c.JSON {
		err = r.WriteJSON(e.stdout)
	} else {
		err = r.WriteTable(e.stdout)
	}
	if err != nil {
		return err
	}
	if n := r.Errors(); n > 0 {
		return fmt.Errorf("%d operations failed during the run (see the report)", n)
	}
	return nil
}
