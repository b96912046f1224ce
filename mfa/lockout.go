package mfa

import (
	"fmt"
	"time"

	"github.com/stepgate/stepgate/storage"
)

// LockoutPolicy locks a counter after Threshold consecutive failures, for
// Duration. The counting itself is done by the store, in one statement, so
// that concurrent attempts cannot exceed the threshold.
type LockoutPolicy struct {
	Threshold int
	Duration  time.Duration
}

// Default policies. Second factors are few digits, so they lock sooner and
// for longer; the password lock is short because anyone who knows an email
// address can trigger it.
var (
	DefaultMFALockout      = LockoutPolicy{Threshold: 6, Duration: time.Hour}
	DefaultPasswordLockout = LockoutPolicy{Threshold: 10, Duration: 15 * time.Minute}
)

// Validate reports whether p locks at all, after a positive number of
// failures.
func (p LockoutPolicy) Validate() error {
	if p.Threshold < 1 || p.Duration <= 0 {
		return fmt.Errorf("mfa: lockout policy needs a positive threshold and duration, got %d and %s", p.Threshold, p.Duration)
	}
	return nil
}

// Storage is p in the form the store's attempt counters take.
func (p LockoutPolicy) Storage() storage.Lockout {
	return storage.Lockout{Threshold: p.Threshold, Duration: p.Duration}
}
