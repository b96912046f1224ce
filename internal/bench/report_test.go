package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func approx(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: none, want %g", what, want)
	}
	if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %g, want %g", what, *got, want)
	}
}

func TestReportRatiosAndGoals(t *testing.T) {
	r := &Report{Settings: Settings{Users: 100000}, Figures: []Figure{
		{Name: "argon2id_floor", Ops: 200, PerSecond: 50},
		{Name: "full_login", Ops: 90, PerSecond: 45, RatioTo: "argon2id_floor", PeakRSSMiB: ptr(160.0)},
		{Name: "full_login_paced", Ops: 70, PerSecond: 36, RatioTo: "full_login", P99Ms: ptr(250.0)},
		{Name: "bare_discovery", Ops: 1000, PerSecond: 10000},
		{Name: "discovery", Ops: 900, PerSecond: 9500, RatioTo: "bare_discovery"},
		{Name: "bare_jwks", Ops: 1000, PerSecond: 10000},
		{Name: "jwks", Ops: 0, PerSecond: 0, RatioTo: "bare_jwks"},
		{Name: "refresh", Ops: 5000, PerSecond: 1200},
	}}
	baseline := &Report{Settings: Settings{Users: 1000}, Figures: []Figure{{Name: "full_login", Ops: 100, PerSecond: 50}}}
	r.ratios(baseline)
	r.goals(baseline)

	approx(t, "full_login ratio", r.Figure("full_login").Ratio, 45.0/50)
	approx(t, "paced ratio", r.Figure("full_login_paced").Ratio, 36.0/45)
	approx(t, "discovery ratio", r.Figure("discovery").Ratio, 0.95)
	approx(t, "baseline ratio", r.Figure("full_login").BaselineRatio, 45.0/50)
	if r.Figure("jwks").Ratio != nil {
		t.Error("a figure without operations got a ratio")
	}
	if r.Figure("argon2id_floor").Ratio != nil || r.Figure("discovery").BaselineRatio != nil {
		t.Error("a ratio to nothing")
	}

	want := map[string]*bool{ // by the goal's first word(s)
		"full login ÷ argon2id":   ptr(true),
		"full login rate with":    ptr(false), // 0.9 < 0.95
		"p99 of a full login":     ptr(true),
		"discovery req/s":         ptr(true),
		"JWKS req/s":              nil, // no operations
		"refresh grants/s":        ptr(true),
		"introspections/s":        nil, // not run
		"server peak RSS at peak": ptr(false),
	}
	if len(r.Goals) != len(want) {
		t.Fatalf("%d goals, want %d", len(r.Goals), len(want))
	}
	for _, g := range r.Goals {
		found := false
		for prefix, met := range want {
			if !strings.HasPrefix(g.What, prefix) {
				continue
			}
			found = true
			switch {
			case met == nil && (g.Met != nil || g.Measured != nil):
				t.Errorf("%q: met %v, measured %v; want not measured", g.What, *g.Met, *g.Measured)
			case met != nil && (g.Met == nil || *g.Met != *met):
				t.Errorf("%q: met %v, want %v", g.What, g.Met, *met)
			}
		}
		if !found {
			t.Errorf("unexpected goal %q", g.What)
		}
	}
	if !strings.Contains(r.Goals[1].What, "100000 users ÷ with 1000") {
		t.Errorf("the baseline goal does not name the user counts: %q", r.Goals[1].What)
	}
}

func TestReportWritesAndReadsBack(t *testing.T) {
	m := &measurement{ops: 4, window: 2 * time.Second, lat: []time.Duration{1, 2, 3, 4 * time.Millisecond},
		steps: [][]time.Duration{{time.Millisecond}}, errs: map[string]int{"boom": 1}, cpu: ptr(8 * time.Millisecond)}
	r := &Report{Figures: []Figure{figure("x", "an X", m, "only step"), failed("y", "a Y", errors.New("no Y today"))}}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	x := back.Figure("x")
	approx(t, "per second", &x.PerSecond, 2)
	approx(t, "CPU ms per op", x.CPUMsPerOp, 2)
	approx(t, "p99", x.P99Ms, 4)
	if x.Errors != 1 || x.ErrorSamples["boom"] != 1 || len(x.Steps) != 1 || x.Steps[0].Name != "only step" {
		t.Errorf("figure x read back as %+v", x)
	}
	if x.PeakRSSMiB != nil {
		t.Error("a peak RSS that was not measured")
	}
	var table bytes.Buffer
	if err := back.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"an X", "a Y", "no Y today", "only step"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, table.String())
		}
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i + 1)
	}
	for q, want := range map[float64]time.Duration{0.5: 50, 0.99: 99, 1: 100, 0.001: 1} {
		if got := percentile(lat, q); got != want {
			t.Errorf("percentile %g = %d, want %d", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}
