package mfa

import (
	"slices"
	"testing"
)

func TestClaims(t *testing.T) {
	cases := []struct {
		name    string
		methods []string
		amr     []string
		acr     string
	}{
		{"password alone is one factor", []string{"pwd"}, []string{"pwd"}, "1fa"},
		{"password and OTP are two", []string{"pwd", "otp"}, []string{"pwd", "otp", "mfa"}, "2fa"},
		{"password and email code are two", []string{"pwd", "email"}, []string{"pwd", "email", "mfa"}, "2fa"},
		{"password and backup code are two", []string{"pwd", "backup_code"}, []string{"pwd", "backup_code", "mfa"}, "2fa"},
		{"password comes first whatever the order", []string{"otp", "pwd"}, []string{"pwd", "otp", "mfa"}, "2fa"},
		{"repeats are removed", []string{"pwd", "otp", "pwd", "otp"}, []string{"pwd", "otp", "mfa"}, "2fa"},
		{"second factors in a fixed order", []string{"backup_code", "pwd", "email", "otp"}, []string{"pwd", "otp", "email", "backup_code", "mfa"}, "2fa"},
		{"a recorded mfa is not a factor", []string{"pwd", "mfa"}, []string{"pwd"}, "1fa"},
		{"unknown methods are ignored", []string{"pwd", "hwk", "sms"}, []string{"pwd"}, "1fa"},
		{"a second factor without a password is one factor", []string{"otp"}, []string{"otp"}, "1fa"},
		{"nothing done", nil, nil, ""},
		{"nothing known done", []string{"mfa", "hwk"}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			amr, acr := Claims(c.methods)
			if !slices.Equal(amr, c.amr) || acr != c.acr {
				t.Fatalf("Claims(%q) = %q, %q; want %q, %q", c.methods, amr, acr, c.amr, c.acr)
			}
		})
	}
}

func TestClaimsDoesNotChangeItsInput(t *testing.T) {
	in := []string{"otp", "pwd", "otp"}
	Claims(in)
	if !slices.Equal(in, []string{"otp", "pwd", "otp"}) {
		t.Fatalf("input changed to %q", in)
	}
}
