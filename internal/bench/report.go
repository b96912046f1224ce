package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one run measured, as `--json-out` writes it.
type Report struct {
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"` // the whole run, seeding included
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`
	// SeedSeconds is how long seeding the users took.
	SeedSeconds float64  `json:"seed_seconds"`
	Figures     []Figure `json:"figures"`
	Goals       []Goal   `json:"goals"`
	Notes       []string `json:"notes,omitempty"`
}

// Machine is where the run ran.
type Machine struct {
	CPUs        int    `json:"cpus"`
	GOMAXPROCS  int    `json:"gomaxprocs"`
	CPUModel    string `json:"cpu_model,omitempty"`
	MemTotalMiB int64  `json:"mem_total_mib,omitempty"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Go          string `json:"go"`
}

// Settings are how the run was made.
type Settings struct {
	Users       int    `json:"users"`
	Concurrency int    `json:"concurrency"`
	Duration    string `json:"duration"`
	Warmup      string `json:"warmup"`
	// Engine is sqlite or postgres; Database says where: the temporary
	// SQLite file, the PostgreSQL schema created for the run, or the
	// running server's database.
	Engine   string `json:"engine"`
	Database string `json:"database"`
	// Server is "child" (started by the benchmark, PID given) or the URL
	// of the running server driven.
	Server     string   `json:"server"`
	ServerPID  int      `json:"server_pid,omitempty"`
	ServerArgs []string `json:"server_args,omitempty"`
}

// Figure is one measured scenario. Pointers are null where a value does not
// apply or could not be measured (no operations, no /proc of the server).
type Figure struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Ops completed without error within the window of Seconds.
	Ops       int     `json:"ops"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// TargetPerSecond is the pace of an open-loop scenario.
	TargetPerSecond *float64 `json:"target_per_second,omitempty"`
	P50Ms           *float64 `json:"p50_ms"`
	P99Ms           *float64 `json:"p99_ms"`
	// CPUMsPerOp is the server's CPU time over the window ÷ Ops; for the
	// argon2id floor the benchmark's own.
	CPUMsPerOp *float64 `json:"cpu_ms_per_op"`
	PeakRSSMiB *float64 `json:"peak_rss_mib"`
	// Ratio is PerSecond ÷ the PerSecond of the figure RatioTo.
	RatioTo string   `json:"ratio_to,omitempty"`
	Ratio   *float64 `json:"ratio,omitempty"`
	// BaselineRatio is PerSecond ÷ the same figure's in --baseline.
	BaselineRatio *float64       `json:"baseline_ratio,omitempty"`
	Steps         []Step         `json:"steps,omitempty"`
	ErrorSamples  map[string]int `json:"error_samples,omitempty"`
	Note          string         `json:"note,omitempty"`
}

// Step is one request of a login, its own latency.
type Step struct {
	Name  string  `json:"name"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// Goal is one line of issue 13's table: what is measured, the goal, and
// whether this run met it (null when it was not measured).
type Goal struct {
	What     string   `json:"what"`
	Goal     string   `json:"goal"`
	Measured *float64 `json:"measured"`
	Met      *bool    `json:"met"`
}

// figure turns a measurement into a figure.
func figure(name, what string, m *measurement, stepNames ...string) Figure {
	f := Figure{Name: name, What: what, Ops: m.ops, Errors: m.errors(), Seconds: m.window.Seconds(),
		PerSecond: m.perSecond(), Note: m.endedEarly}
	if f.Note != "" {
		f.Note = "ended early: " + f.Note
	}
	if m.ops > 0 {
		f.P50Ms = ptr(ms(percentile(m.lat, 0.50)))
		f.P99Ms = ptr(ms(percentile(m.lat, 0.99)))
		if m.cpu != nil {
			f.CPUMsPerOp = ptr(ms(*m.cpu) / float64(m.ops))
		}
	}
	if m.peakRSS != nil {
		f.PeakRSSMiB = ptr(float64(*m.peakRSS) / (1 << 20))
	}
	for i, s := range m.steps {
		if i < len(stepNames) && len(s) > 0 {
			f.Steps = append(f.Steps, Step{Name: stepNames[i], P50Ms: ms(percentile(s, 0.5)), P99Ms: ms(percentile(s, 0.99))})
		}
	}
	if len(m.errs) > 0 {
		f.ErrorSamples = sampleErrors(m.errs, 5)
	}
	return f
}

// failed is the figure of a scenario that could not run at all.
func failed(name, what string, err error) Figure {
	return Figure{Name: name, What: what, Errors: 1, ErrorSamples: map[string]int{err.Error(): 1}}
}

// sampleErrors keeps the n most frequent error messages.
func sampleErrors(errs map[string]int, n int) map[string]int {
	keys := slices.SortedFunc(maps.Keys(errs), func(a, b string) int { return errs[b] - errs[a] })
	out := map[string]int{}
	for _, k := range keys[:min(n, len(keys))] {
		out[k] = errs[k]
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func ptr[T any](v T) *T          { return &v }

// Figure returns the figure of that name, or nil.
func (r *Report) Figure(name string) *Figure {
	for i := range r.Figures {
		if r.Figures[i].Name == name {
			return &r.Figures[i]
		}
	}
	return nil
}

// Errors is the number of failed operations in every figure.
func (r *Report) Errors() int {
	n := 0
	for _, f := range r.Figures {
		n += f.Errors
	}
	return n
}

// ratios fills each figure's Ratio from the figure it is compared with,
// and BaselineRatio from the same figure of baseline (nil: none).
func (r *Report) ratios(baseline *Report) {
	for i := range r.Figures {
		f := &r.Figures[i]
		f.Ratio = nil
		if to := r.Figure(f.RatioTo); to != nil && to.PerSecond > 0 && f.Ops > 0 {
			f.Ratio = ptr(f.PerSecond / to.PerSecond)
		}
		if baseline != nil {
			if b := baseline.Figure(f.Name); b != nil && b.PerSecond > 0 && f.Ops > 0 {
				f.BaselineRatio = ptr(f.PerSecond / b.PerSecond)
			}
		}
	}
}

// goals checks the run against issue 13's table.
func (r *Report) goals(baseline *Report) {
	get := func(name string, value func(*Figure) *float64) *float64 {
		if f := r.Figure(name); f != nil && f.Ops > 0 {
			return value(f)
		}
		return nil
	}
	ratio := func(f *Figure) *float64 { return f.Ratio }
	rate := func(f *Figure) *float64 { return ptr(f.PerSecond) }
	check := func(what, goal string, v *float64, atLeast bool, bound float64) Goal {
		g := Goal{What: what, Goal: goal, Measured: v}
		if v != nil {
			g.Met = ptr(*v >= bound)
			if !atLeast {
				g.Met = ptr(*v <= bound)
			}
		}
		return g
	}
	r.Goals = []Goal{
		check("full login ÷ argon2id hashes/s", "≥ 0.85", get("full_login", ratio), true, 0.85),
	}
	what := "full login rate ÷ that of --baseline (e.g. 100,000 users ÷ 1,000)"
	if baseline != nil {
		what = fmt.Sprintf("full login rate with %d users ÷ with %d (--baseline)", r.Settings.Users, baseline.Settings.Users)
	}
	r.Goals = append(r.Goals,
		check(what, "≥ 0.95", get("full_login", func(f *Figure) *float64 { return f.BaselineRatio }), true, 0.95),
		check("p99 of a full login at 80 % of peak, ms", "≤ 300", get("full_login_paced", func(f *Figure) *float64 { return f.P99Ms }), false, 300),
		check("discovery req/s ÷ bare net/http", "≥ 0.9", get("discovery", ratio), true, 0.9),
		check("JWKS req/s ÷ bare net/http", "≥ 0.9", get("jwks", ratio), true, 0.9),
		check("refresh grants/s", "≥ 1000", get("refresh", rate), true, 1000),
		check("introspections/s", "≥ 5000", get("introspection", rate), true, 5000),
		check("server peak RSS at peak login load, MiB", "≤ 150", get("full_login", func(f *Figure) *float64 { return f.PeakRSSMiB }), false, 150),
	)
}

// ReadReport reads a report --json-out wrote.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is not a benchmark report: %v", path, err)
	}
	return &r, nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people: the settings, one row per
// figure, the goals, and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	s := r.Settings
	fmt.Fprintf(w, "StepGate load benchmark, %s: %d users on %s (%s), %d virtual users, %s per scenario after %s warm-up\n",
		r.Started.UTC().Format(time.RFC3339), s.Users, s.Engine, s.Database, s.Concurrency, s.Duration, s.Warmup)
	m := r.Machine
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d) %s, %d MiB, %s/%s, %s; server: %s %s; seeded in %.1f s\n\n",
		m.CPUs, m.GOMAXPROCS, m.CPUModel, m.MemTotalMiB, m.OS, m.Arch, m.Go, s.Server, strings.Join(s.ServerArgs, " "),
		r.SeedSeconds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	baseline := slices.ContainsFunc(r.Figures, func(f Figure) bool { return f.BaselineRatio != nil })
	head := "figure\tops/s\tratio\tto\tp50 ms\tp99 ms\tCPU ms/op\tpeak RSS MiB\tops\terrors\t"
	if baseline {
		head += "÷ baseline\t"
	}
	fmt.Fprintln(tw, head)
	for _, f := range r.Figures {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t", f.What, num(&f.PerSecond), num(f.Ratio), f.RatioTo,
			num(f.P50Ms), num(f.P99Ms), num(f.CPUMsPerOp), num(f.PeakRSSMiB), f.Ops, f.Errors)
		if baseline {
			line += num(f.BaselineRatio) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ngoals (issue 13)")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, g := range r.Goals {
		met := "not measured"
		if g.Met != nil {
			met = map[bool]string{true: "met", false: "NOT MET"}[*g.Met]
		}
		fmt.Fprintf(tw, "  %s\t%s\tgoal %s\t%s\n", g.What, num(g.Measured), g.Goal, met)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range r.Figures {
		if len(f.Steps) > 0 {
			var parts []string
			for _, st := range f.Steps {
				parts = append(parts, fmt.Sprintf("%s %s/%s", st.Name, num(&st.P50Ms), num(&st.P99Ms)))
			}
			fmt.Fprintf(w, "\n%s, p50/p99 ms per request: %s", f.Name, strings.Join(parts, ", "))
		}
	}
	fmt.Fprintln(w)
	for _, f := range r.Figures {
		if f.Note != "" {
			fmt.Fprintf(w, "\n%s: %s", f.Name, f.Note)
		}
		for e, n := range f.ErrorSamples {
			fmt.Fprintf(w, "\n%s: %d× %s", f.Name, n, e)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\n%s", n)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// num writes a figure with three significant digits, at least; "—" for
// none.
func num(v *float64) string {
	switch {
	case v == nil:
		return "—"
	case math.Abs(*v) >= 100:
		return fmt.Sprintf("%.0f", *v)
	case math.Abs(*v) >= 10:
		return fmt.Sprintf("%.1f", *v)
	case math.Abs(*v) >= 1:
		return fmt.Sprintf("%.2f", *v)
	default:
		return fmt.Sprintf("%.3f", *v)
	}
}

// machine describes this computer.
func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var kb int64
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				m.MemTotalMiB = kb >> 10
				break
			}
		}
	}
	return m
}
