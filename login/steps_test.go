package login

import (
	"testing"
	"time"

	"github.com/stepgate/stepgate/mfa"
)

// TestPermits is the rule of every login form POST against every kind of
// decision.
func TestPermits(t *testing.T) {
	all := []step{stepPassword, stepOTP, stepEmailSend, stepEmail, stepBackup, stepBindSend, stepBindVerify, stepBindConfirm, stepCancel}
	locked := time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC)
	both := []string{mfa.FactorOTP, mfa.FactorEmail}
	cases := []struct {
		name    string
		d       mfa.Decision
		user    mfa.UserState
		allowed []step
	}{
		{"NextPassword: the password or giving up", mfa.Decision{Next: mfa.NextPassword}, mfa.UserState{},
			[]step{stepPassword, stepCancel}},
		{"NextDone: nothing", mfa.Decision{Next: mfa.NextDone}, mfa.UserState{HasTOTP: true}, nil},
		{"NextError: nothing", mfa.Decision{Next: mfa.NextError}, mfa.UserState{HasTOTP: true}, nil},
		{"NextFactor with MustBind: only the binding steps", mfa.Decision{Next: mfa.NextFactor, Factors: both, MustBind: true, BackupAllowed: true},
			mfa.UserState{HasBackupCodes: true}, []step{stepBindSend, stepBindVerify, stepBindConfirm, stepCancel}},
		{"NextFactor, authenticator bound: its codes, email, backup", mfa.Decision{Next: mfa.NextFactor, Factors: both, BackupAllowed: true},
			mfa.UserState{HasTOTP: true, HasBackupCodes: true}, []step{stepOTP, stepEmailSend, stepEmail, stepBackup, stepCancel}},
		{"NextFactor, no authenticator: email, or binding one", mfa.Decision{Next: mfa.NextFactor, Factors: []string{mfa.FactorEmail, mfa.FactorOTP}},
			mfa.UserState{}, []step{stepEmailSend, stepEmail, stepBindSend, stepBindVerify, stepBindConfirm, stepCancel}},
		{"NextFactor, email only: no authenticator steps", mfa.Decision{Next: mfa.NextFactor, Factors: []string{mfa.FactorEmail}},
			mfa.UserState{HasTOTP: true}, []step{stepEmailSend, stepEmail, stepCancel}},
		{"NextFactor, OTP only: no email steps", mfa.Decision{Next: mfa.NextFactor, Factors: []string{mfa.FactorOTP}},
			mfa.UserState{HasTOTP: true}, []step{stepOTP, stepCancel}},
		{"NextFactor while locked: codes are counted as locked, nothing is sent", mfa.Decision{Next: mfa.NextFactor, Factors: both, BackupAllowed: true, LockedUntil: locked},
			mfa.UserState{HasTOTP: true, HasBackupCodes: true, MFALockedUntil: locked}, []step{stepOTP, stepEmail, stepBackup, stepCancel}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range all {
				want := false
				for _, a := range c.allowed {
					want = want || a == s
				}
				if got := permits(c.d, c.user, s); got != want {
					t.Errorf("%s: permits = %v, want %v", s, got, want)
				}
			}
		})
	}
}

func TestLockMessage(t *testing.T) {
	now := time.Date(2026, 5, 1, 14, 5, 0, 0, time.UTC)
	cases := map[time.Duration]string{
		time.Hour:        "locked until 15:05 UTC, about 1 hour.",
		59 * time.Minute: "locked until 15:04 UTC, about 1 hour.",
		10 * time.Minute: "locked until 14:15 UTC, about 10 minutes.",
		30 * time.Second: "locked until 14:05 UTC, about a minute.",
		3 * time.Hour:    "locked until 17:05 UTC, about 3 hours.",
	}
	for d, want := range cases {
		if got := lockMessage(now.Add(d), now); got != "Too many wrong codes. Second-factor sign-in is "+want {
			t.Errorf("%s: %q", d, got)
		}
	}
}
