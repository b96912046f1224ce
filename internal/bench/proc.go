package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for user space on every architecture.
const userHZ = 100

// process reads what Linux's /proc says of one process: the CPU time it has
// used and its peak resident set. The server's own process is read, never
// the load generator's.
type process struct {
	pid int
	// peakResettable is whether writing clear_refs resets VmHWM (the same
	// user, Linux 4.0 on); otherwise peaks are since the process started.
	peakResettable bool
}

// openProcess checks that /proc can be read for pid; nil and an error
// where it cannot (another OS, a process gone or not ours).
func openProcess(pid int) (*process, error) {
	p := &process{pid: pid}
	if _, err := p.cpu(); err != nil {
		return nil, err
	}
	if _, err := p.peakRSS(); err != nil {
		return nil, err
	}
	p.peakResettable = p.resetPeak() == nil
	return p, nil
}

// cpu is the user and system CPU time of all the process's threads.
func (p *process) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields are
	// counted from the last ')'. After it come state (field 3) … utime
	// (14) and stime (15).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bench: unreadable /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bench: short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("bench: /proc stat: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// peakRSS is VmHWM, the largest resident set since the process started or
// since the last resetPeak, in bytes.
func (p *process) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("bench: no VmHWM in /proc status")
}

// resetPeak starts a new VmHWM from the current resident set ("5" to
// clear_refs), so the next peakRSS is the peak of what came in between.
func (p *process) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0)
}
