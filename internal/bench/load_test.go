package bench

import (
	"context"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// These drive the loops with operations that take no time at all or a
// fixed time; they check what is counted, never how fast anything is.

func TestClosedLoopCountsWhatCompletesInTheWindow(t *testing.T) {
	var calls atomic.Int64
	m, err := closedLoop(t.Context(), nil, 3, 20*time.Millisecond, 50*time.Millisecond, func(worker int) (operation, error) {
		return func(ctx context.Context) ([]time.Duration, error) {
			if calls.Add(1)%2 == 0 {
				return nil, errors.New("every second one fails")
			}
			time.Sleep(time.Millisecond)
			return []time.Duration{time.Millisecond}, nil
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ops == 0 || m.errors() == 0 || m.errs["every second one fails"] != m.errors() {
		t.Fatalf("ops %d, errors %v", m.ops, m.errs)
	}
	if int64(m.ops+m.errors()) >= calls.Load() {
		t.Errorf("%d counted of %d calls: the warm-up's were counted too", m.ops+m.errors(), calls.Load())
	}
	if m.window != 50*time.Millisecond || len(m.steps) != 1 || len(m.steps[0]) != m.ops {
		t.Errorf("window %s, steps %d", m.window, len(m.steps))
	}
}

func TestClosedLoopWaitsForItsFirstOperation(t *testing.T) {
	m, err := closedLoop(t.Context(), nil, 1, 0, time.Millisecond, func(int) (operation, error) {
		return func(ctx context.Context) ([]time.Duration, error) {
			select {
			case <-time.After(30 * time.Millisecond):
			case <-ctx.Done():
			}
			return nil, ctx.Err()
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ops != 1 || m.window < 30*time.Millisecond {
		t.Errorf("ops %d in %s: the window closed before anything completed", m.ops, m.window)
	}
}

func TestClosedLoopEndsWhenUsersRunOut(t *testing.T) {
	var left atomic.Int64
	left.Store(5)
	m, err := closedLoop(t.Context(), nil, 2, 0, time.Minute, func(int) (operation, error) {
		return func(context.Context) ([]time.Duration, error) {
			if left.Add(-1) < 0 {
				return nil, errExhausted
			}
			return nil, nil
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.ops != 5 || m.endedEarly == "" || m.window >= time.Minute {
		t.Errorf("ops %d, ended early %q after %s", m.ops, m.endedEarly, m.window)
	}
}

func TestPacedCountsTheOperationThatOpensTheWindow(t *testing.T) {
	var calls atomic.Int64
	m, err := paced(t.Context(), nil, 100, 25*time.Millisecond, time.Millisecond, 4, func(context.Context) ([]time.Duration, error) {
		calls.Add(1)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// At 100/s with a 25 ms warm-up and a 1 ms window: 20 ms and 10 ms
	// before the window (not counted), and as it opens.
	if m.ops != 1 || calls.Load() != 3 {
		t.Errorf("ops %d of %d calls", m.ops, calls.Load())
	}
}

func TestProcessReadsCPUAndPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	p, err := openProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := p.cpu()
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	after, err := p.cpu()
	if err != nil || after <= before {
		t.Errorf("CPU time %s then %s (%v) after 50 ms of spinning", before, after, err)
	}
	rss, err := p.peakRSS()
	if err != nil || rss < 1<<20 {
		t.Errorf("peak RSS %d (%v)", rss, err)
	}
	if _, err := openProcess(1 << 30); err == nil {
		t.Error("a process that does not exist was opened")
	}
}
