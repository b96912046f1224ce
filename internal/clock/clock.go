// Package clock is the time source the server reads, and a fake one tests
// move forward instead of sleeping through TOTP steps and periods.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the system clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Fake is the system clock plus an offset that only Advance changes. It
// keeps running, so timers the test does not mean to jump (sessions, codes,
// request lifetimes) behave as with the real clock; Advance jumps them all
// at once. Safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time plus everything Advance added.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.offset)
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Fake.Advance with a negative duration")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offset += d
}

var (
	_ Clock = Real{}
	_ Clock = (*Fake)(nil)
)
