package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/bench"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
	"github.com/stepgate/stepgate/storage/storagetest"
)

// benchFigures are every figure a run reports, with the figure each is
// divided by.
var benchFigures = map[string]string{
	"argon2id_floor": "", "bare_discovery": "", "bare_jwks": "",
	"discovery": "bare_discovery", "jwks": "bare_jwks",
	"full_login": "argon2id_floor", "password_login": "argon2id_floor",
	"refresh": "", "introspection": "", "full_login_paced": "full_login",
}

// The benchmark runs as a user runs it, on each engine, with tiny
// settings: it starts StepGate and the bare server as child processes
// (this test binary, see TestMain; with the package's cheap argon2id
// parameters, in the children too), seeds, drives real HTTP and reports.
// What is checked is that every figure was measured without an error and
// that each ratio is the one its numbers give; no speed is asserted. Users
// are more than tiny: a user logs in with TOTP once per 30-second step,
// and the peak and the paced logins together must not run out of them.
func TestBenchCommandMeasuresEveryFigure(t *testing.T) {
	engines := map[string]string{"sqlite": ""}
	if dsn := os.Getenv(storagetest.PostgresEnv); dsn != "" {
		engines["postgres"] = dsn
	}
	t.Setenv(childEnv, "1")
	for engine, database := range engines {
		t.Run(engine, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report.json")
			args := []string{"bench", "--users", "300", "--concurrency", "2", "--duration", "500ms", "--warmup", "0s",
				"--json-out", out}
			if database != "" {
				args = append(args, "--database", database)
			}
			code, stdout, stderr := runCommand(noEnv, nil, "", args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			t.Logf("%s%s", stderr, stdout)
			r, err := bench.ReadReport(out)
			if err != nil {
				t.Fatal(err)
			}
			if r.Settings.Engine != engine || r.Settings.Users != 300 || r.Settings.Server != "child" || r.SeedSeconds <= 0 {
				t.Errorf("settings %+v, seeded in %gs", r.Settings, r.SeedSeconds)
			}
			checkFigures(t, r)
			checkGoals(t, r)
			for _, want := range []string{"full login (authorize → password → TOTP → code → token)", "goals (issue 13)"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("the table lacks %q:\n%s", want, stdout)
				}
			}
			// The run's database is gone.
			switch engine {
			case "sqlite":
				loc, err := sqlstore.ParseURL(r.Settings.Database)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Dir(loc.Path)); !os.IsNotExist(err) {
					t.Errorf("%s is still there (%v)", filepath.Dir(loc.Path), err)
				}
			case "postgres":
				st, err := sqlstore.Open(t.Context(), database)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				schema := strings.TrimPrefix(r.Settings.Database, "schema ")
				var n int
				if err := st.DB().Get(&n, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema); err != nil || n != 0 {
					t.Errorf("schema %s: %d left (%v)", schema, n, err)
				}
			}
		})
	}
}

func checkFigures(t *testing.T, r *bench.Report) {
	t.Helper()
	if len(r.Figures) != len(benchFigures) {
		t.Errorf("%d figures, want %d", len(r.Figures), len(benchFigures))
	}
	for name, ratioTo := range benchFigures {
		f := r.Figure(name)
		if f == nil {
			t.Errorf("no figure %s", name)
			continue
		}
		if f.Ops <= 0 || f.Errors != 0 || f.Seconds <= 0 || f.P50Ms == nil || f.P99Ms == nil || *f.P50Ms > *f.P99Ms {
			t.Errorf("%s: %d ops, %d errors %v in %gs, p50 %s p99 %s", name, f.Ops, f.Errors, f.ErrorSamples, f.Seconds,
				show(f.P50Ms), show(f.P99Ms))
			continue
		}
		if !near(f.PerSecond, float64(f.Ops)/f.Seconds) {
			t.Errorf("%s: %g/s, but %d ops in %gs", name, f.PerSecond, f.Ops, f.Seconds)
		}
		if f.CPUMsPerOp == nil || *f.CPUMsPerOp < 0 {
			t.Errorf("%s: CPU ms per op %s", name, show(f.CPUMsPerOp))
		}
		if server := name != "argon2id_floor"; server != (f.PeakRSSMiB != nil) || server && *f.PeakRSSMiB <= 0 {
			t.Errorf("%s: peak RSS %s", name, show(f.PeakRSSMiB))
		}
		if f.RatioTo != ratioTo {
			t.Errorf("%s is divided by %q, want %q", name, f.RatioTo, ratioTo)
		}
		if to := r.Figure(ratioTo); to != nil && (f.Ratio == nil || !near(*f.Ratio, f.PerSecond/to.PerSecond)) {
			t.Errorf("%s: ratio %s, but %g/s ÷ %g/s", name, show(f.Ratio), f.PerSecond, to.PerSecond)
		}
		if ratioTo == "" && f.Ratio != nil {
			t.Errorf("%s: a ratio to nothing", name)
		}
	}
	if f := r.Figure("full_login"); f != nil && len(f.Steps) != 4 {
		t.Errorf("full login steps %+v", f.Steps)
	}
	if p, peak := r.Figure("full_login_paced"), r.Figure("full_login"); p != nil && peak != nil &&
		(p.TargetPerSecond == nil || !near(*p.TargetPerSecond, 0.8*peak.PerSecond)) {
		t.Errorf("paced at %s, the peak was %g/s", show(p.TargetPerSecond), peak.PerSecond)
	}
}

// checkGoals: every goal but the baseline's is measured, from the figures.
func checkGoals(t *testing.T, r *bench.Report) {
	t.Helper()
	from := map[string]*float64{
		"full login ÷":            r.Figure("full_login").Ratio,
		"p99 of a full login":     r.Figure("full_login_paced").P99Ms,
		"discovery req/s":         r.Figure("discovery").Ratio,
		"JWKS req/s":              r.Figure("jwks").Ratio,
		"refresh grants/s":        &r.Figure("refresh").PerSecond,
		"introspections/s":        &r.Figure("introspection").PerSecond,
		"server peak RSS at peak": r.Figure("full_login").PeakRSSMiB,
	}
	if len(r.Goals) != len(from)+1 {
		t.Errorf("%d goals", len(r.Goals))
	}
	for _, g := range r.Goals {
		if strings.Contains(g.What, "--baseline") {
			if g.Measured != nil || g.Met != nil {
				t.Errorf("%q measured without a baseline", g.What)
			}
			continue
		}
		matched := false
		for prefix, v := range from {
			if strings.HasPrefix(g.What, prefix) {
				matched = true
				if g.Measured == nil || v == nil || *g.Measured != *v || g.Met == nil {
					t.Errorf("%q: measured %s, the figure %s", g.What, show(g.Measured), show(v))
				}
			}
		}
		if !matched {
			t.Errorf("unexpected goal %q", g.What)
		}
	}
}

// show is a figure's value for a message: the number, or "none".
func show(v *float64) string {
	if v == nil {
		return "none"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestBenchRefusesNonsense(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--users", "0"}, "--users must be at least 1"},
		{[]string{"bench", "--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"bench", "--duration", "0s"}, "--duration must be positive"},
		{[]string{"bench", "--warmup=-1s"}, "--warmup must not be negative"},
		{[]string{"bench", "--pid", "1"}, "--pid is the process of the server --url names"},
		{[]string{"bench", "--baseline", "/nonexistent/report.json"}, "--baseline:"},
	} {
		code, _, stderr := runCommand(noEnv, nil, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// Against a running server (--url), the benchmark seeds the configured
// database with the configured master key, which the server then reads:
// every login works, and the seeded users stay. The server runs in this
// process, so --pid is this process (its CPU then includes the load
// generator's; only that it is read is checked).
func TestBenchAgainstARunningServer(t *testing.T) {
	t.Setenv(childEnv, "1") // the bare server is still a child
	for engine, database := range storagetest.Databases() {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			url := database(t, dir)
			raw := make([]byte, 32)
			rand.Read(raw)
			getenv := masterKeyEnv(base64.StdEncoding.EncodeToString(raw))
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			ctx, stop := context.WithCancel(t.Context())
			served := make(chan int)
			var serveLog bytes.Buffer
			go func() {
				served <- runEnv(ctx, env{stdout: io.Discard, stderr: &serveLog, getenv: getenv},
					[]string{"serve", "--dev", "--listen", addr, "--data-dir", dir, "--database", url, "--password-ip-limit", "0"})
			}()
			defer func() {
				stop()
				<-served
			}()
			waitFor(t, "http://"+addr+"/readyz", served, &serveLog)

			out := filepath.Join(dir, "report.json")
			code, stdout, stderr := runCommand(getenv, nil, "", "bench", "--dev", "--data-dir", dir, "--database", url,
				"--url", "http://"+addr+"/", "--pid", strconv.Itoa(os.Getpid()), "--users", "300", "--concurrency", "2",
				"--duration", "500ms", "--warmup", "0s", "--json-out", out)
			t.Logf("%s%s", stderr, stdout)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			r, err := bench.ReadReport(out)
			if err != nil {
				t.Fatal(err)
			}
			if r.Settings.Server != "http://"+addr || r.Settings.ServerPID != os.Getpid() || r.Settings.Engine != engine {
				t.Errorf("settings %+v", r.Settings)
			}
			checkFigures(t, r)
			st, err := sqlstore.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			n, err := st.CountUsers(t.Context(), storage.UserQuery{Search: "bench-"})
			if err != nil || n != 300 {
				t.Errorf("%d seeded users left in the server's database (%v), want 300", n, err)
			}
		})
	}
}

// waitFor polls u until it answers 200, failing if the server ended.
func waitFor(t *testing.T, u string, ended <-chan int, log *bytes.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case code := <-ended:
			t.Fatalf("the server exited %d:\n%s", code, log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not answer", u)
}
