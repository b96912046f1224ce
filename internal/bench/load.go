package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// An operation is one thing a virtual user does, such as one whole login.
// steps, when it returns them, are how long each of its parts took (the
// login's pages and the token request), in a fixed order.
type operation func(ctx context.Context) (steps []time.Duration, err error)

// errExhausted ends a scenario early: a TOTP login found every seeded user
// logged in during the current 30-second step (see userPool).
var errExhausted = errors.New("every seeded user has logged in with TOTP during the current 30-second step")

// measurement is what one scenario measured, over its window: the
// operations that completed inside it, their latencies, the errors, and the
// server's CPU time and peak RSS over the same window.
type measurement struct {
	ops    int
	window time.Duration
	lat    []time.Duration   // sorted
	steps  [][]time.Duration // per step, each sorted
	errs   map[string]int
	// cpu and peakRSS are nil when the server's process cannot be read.
	cpu     *time.Duration
	peakRSS *int64
	// endedEarly says why the scenario stopped before its time was up.
	endedEarly string
}

func (m *measurement) errors() int {
	n := 0
	for _, c := range m.errs {
		n += c
	}
	return n
}

// perSecond is completed operations per second of the window.
func (m *measurement) perSecond() float64 {
	if m.window <= 0 {
		return 0
	}
	return float64(m.ops) / m.window.Seconds()
}

// recorder collects one worker's results; merge joins them.
type recorder struct {
	lat   []time.Duration
	steps [][]time.Duration
	errs  map[string]int
}

func (r *recorder) add(d time.Duration, steps []time.Duration, err error) {
	if err != nil {
		if r.errs == nil {
			r.errs = map[string]int{}
		}
		r.errs[err.Error()]++
		return
	}
	r.lat = append(r.lat, d)
	for len(r.steps) < len(steps) {
		r.steps = append(r.steps, nil)
	}
	for i, s := range steps {
		r.steps[i] = append(r.steps[i], s)
	}
}

func merge(m *measurement, recs ...*recorder) {
	m.errs = map[string]int{}
	for _, r := range recs {
		m.lat = append(m.lat, r.lat...)
		for len(m.steps) < len(r.steps) {
			m.steps = append(m.steps, nil)
		}
		for i, s := range r.steps {
			m.steps[i] = append(m.steps[i], s...)
		}
		for e, n := range r.errs {
			m.errs[e] += n
		}
	}
	m.ops = len(m.lat)
	slices.Sort(m.lat)
	for _, s := range m.steps {
		slices.Sort(s)
	}
}

// percentile is the nearest-rank q-quantile of sorted latencies.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// meter reads the server's process at the start and the end of a window.
type meter struct {
	p    *process
	cpu0 time.Duration
	ok   bool
}

func (w *meter) open() {
	if w.p == nil {
		return
	}
	if w.p.peakResettable {
		w.p.resetPeak()
	}
	var err error
	w.cpu0, err = w.p.cpu()
	w.ok = err == nil
}

func (w *meter) close(m *measurement) {
	if !w.ok {
		return
	}
	if cpu, err := w.p.cpu(); err == nil {
		d := cpu - w.cpu0
		m.cpu = &d
	}
	if rss, err := w.p.peakRSS(); err == nil {
		m.peakRSS = &rss
	}
}

// maxWindow bounds a window kept open for its first operation.
const maxWindow = 2 * time.Minute

// closedLoop runs concurrency workers, each doing its operation again and
// again as soon as the previous one ends (newOp gives each its own, so a
// worker can keep state such as its refresh token). Nothing is recorded
// during warmup; then, for duration, every operation that completes is
// counted, and the server's process (srv, nil when unknown) is read at both
// ends of that window. A worker whose operation returns errExhausted ends
// the window there. A window in which no operation completed stays open
// until one does (at most maxWindow).
func closedLoop(ctx context.Context, srv *process, concurrency int, warmup, duration time.Duration,
	newOp func(worker int) (operation, error)) (*measurement, error) {
	ops := make([]operation, concurrency)
	for i := range ops {
		op, err := newOp(i)
		if err != nil {
			return nil, err
		}
		ops[i] = op
	}
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	from := time.Now().Add(warmup)
	var until atomic.Int64 // unix nanoseconds; the end of the window
	until.Store(from.Add(duration).UnixNano())
	early := make(chan struct{})
	var once sync.Once
	var completed atomic.Int64 // operations recorded in the window
	recs := make([]*recorder, concurrency)
	var wg sync.WaitGroup
	for i, op := range ops {
		recs[i] = &recorder{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run.Err() == nil {
				t0 := time.Now()
				steps, err := op(run)
				t1 := time.Now()
				if errors.Is(err, errExhausted) {
					once.Do(func() { until.Store(t1.UnixNano()); close(early) })
					return
				}
				if t1.Before(from) || t1.UnixNano() > until.Load() || run.Err() != nil {
					continue
				}
				recs[i].add(t1.Sub(t0), steps, err)
				completed.Add(1)
			}
		}()
	}
	m := &measurement{}
	w := meter{p: srv}
	select {
	case <-time.After(time.Until(from)):
		w.open()
		select {
		case <-time.After(time.Until(time.Unix(0, until.Load()))):
			// A window in which nothing completed measured nothing: it
			// stays open until something does (a login slower than
			// the whole window, on a short run).
			if completed.Load() == 0 {
				until.Store(from.Add(maxWindow).UnixNano())
				tick := time.NewTicker(10 * time.Millisecond)
			wait:
				for completed.Load() == 0 && time.Now().Before(time.Unix(0, until.Load())) {
					select {
					case <-early:
						m.endedEarly = errExhausted.Error()
						break wait
					case <-ctx.Done():
						break wait
					case <-tick.C:
					}
				}
				tick.Stop()
				until.Store(min(time.Now().UnixNano(), until.Load()))
			}
		case <-early:
			m.endedEarly = errExhausted.Error()
		case <-ctx.Done():
		}
		w.close(m)
		m.window = time.Unix(0, until.Load()).Sub(from)
	case <-early:
		m.endedEarly = errExhausted.Error() + " (during the warm-up)"
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	merge(m, recs...)
	return m, nil
}

// paced runs op open-loop at rate per second for duration after warmup: the
// i-th operation starts at its scheduled time whether or not the earlier
// ones have finished, and its latency is counted from that time, so a
// server that falls behind shows it in the latency instead of slowing the
// load down. More than maxInFlight operations at once count as errors
// (the server has stopped keeping up). The window's server reading spans
// from the first scheduled operation it counts until the last one ends.
func paced(ctx context.Context, srv *process, rate float64, warmup, duration time.Duration, maxInFlight int,
	op operation) (*measurement, error) {
	if rate <= 0 {
		return nil, errors.New("bench: no rate to pace at")
	}
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	interval := time.Duration(float64(time.Second) / rate)
	// The schedule is laid so that one operation starts exactly as the
	// window opens: even a window shorter than the interval counts one.
	from := time.Now().Add(warmup)
	start := from.Add(-time.Duration(int64(warmup/interval)) * interval)
	end := from.Add(duration)
	var mu sync.Mutex
	rec := &recorder{}
	m := &measurement{window: duration}
	w := meter{p: srv}
	opened := false
	slots := make(chan struct{}, maxInFlight)
	var exhausted atomic.Bool
	var wg sync.WaitGroup
	tooMany := fmt.Errorf("more than %d logins in flight at once: the server no longer keeps up with the pace", maxInFlight)
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) || exhausted.Load() {
			break
		}
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		counted := !at.Before(from)
		if counted && !opened {
			w.open()
			opened = true
		}
		select {
		case slots <- struct{}{}:
		default:
			if counted {
				mu.Lock()
				rec.add(0, nil, tooMany)
				mu.Unlock()
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			steps, err := op(run)
			done := time.Now()
			if errors.Is(err, errExhausted) {
				exhausted.Store(true)
				return
			}
			if counted && run.Err() == nil {
				mu.Lock()
				rec.add(done.Sub(at), steps, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opened {
		w.close(m)
	}
	if exhausted.Load() {
		m.endedEarly = errExhausted.Error()
		if d := time.Since(from); d < m.window {
			m.window = max(d, 0)
		}
	}
	merge(m, rec)
	return m, nil
}
