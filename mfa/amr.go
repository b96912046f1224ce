package mfa

// Authentication method references (the amr claim, RFC 8176 where a value
// is registered) and the factors they name.
const (
	MethodPassword   = "pwd"
	MethodOTP        = "otp"
	MethodEmail      = "email"
	MethodBackupCode = "backup_code"
	MethodMFA        = "mfa" // added by Claims, never recorded as a factor
)

// Authentication context class references (the acr claim).
const (
	ACROneFactor = "1fa"
	ACRTwoFactor = "2fa"
)

// secondFactors in the order they appear in amr.
var secondFactors = []string{MethodOTP, MethodEmail, MethodBackupCode}

// Claims turns the methods completed in a session (as recorded, in any
// order, possibly repeated) into the amr and acr claims: "pwd" first, then
// the second factors in a fixed order, then "mfa" when a password and a
// second factor were both done. acr is "2fa" in that case, "1fa" when
// anything less was done, and empty when nothing was. Unknown methods, and a
// recorded "mfa", are ignored.
func Claims(methods []string) (amr []string, acr string) {
	done := make(map[string]bool, len(methods))
	for _, m := range methods {
		done[m] = true
	}
	if done[MethodPassword] {
		amr = append(amr, MethodPassword)
	}
	second := false
	for _, m := range secondFactors {
		if done[m] {
			amr = append(amr, m)
			second = true
		}
	}
	switch {
	case done[MethodPassword] && second:
		return append(amr, MethodMFA), ACRTwoFactor
	case len(amr) > 0:
		return amr, ACROneFactor
	}
	return nil, ""
}
