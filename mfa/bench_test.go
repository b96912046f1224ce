package mfa

import (
	"testing"
	"time"
)

// Benchmarks of the login's hot functions in this package (the load
// benchmark, `stepgate bench`, measures whole logins). They assert
// nothing about speed; `go test -bench . -benchtime=100x ./mfa` runs them
// quickly.

// BenchmarkDecide decides the two steps of a full login with OTP: after
// the password (a factor is next) and after the code (done).
func BenchmarkDecide(b *testing.B) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	in := Input{
		Client:    ClientPolicy{OTP: true, MFAMaxAge: -1},
		Workspace: WorkspacePolicy{},
		User:      UserState{ID: "u1", HasTOTP: true, HasBackupCodes: true},
		Request:   Request{CreatedAt: now.Add(-time.Second)},
		Now:       now,
	}
	afterPassword := []Done{{MethodPassword, now}}
	afterCode := []Done{{MethodPassword, now}, {MethodOTP, now}}
	for b.Loop() {
		in.Session = afterPassword
		if d := Decide(in); d.Next != NextFactor {
			b.Fatalf("after the password: %v", d.Next)
		}
		in.Session = afterCode
		if d := Decide(in); d.Next != NextDone {
			b.Fatalf("after the code: %v", d.Next)
		}
	}
}

// BenchmarkVerifyTOTP is the check of a code against a secret: three
// steps' HMACs, compared in constant time.
func BenchmarkVerifyTOTP(b *testing.B) {
	secret := []byte("12345678901234567890")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	code := TOTPCode(secret, now)
	for b.Loop() {
		if _, ok := VerifyTOTP(secret, code, now); !ok {
			b.Fatal("the current code was refused")
		}
	}
}
