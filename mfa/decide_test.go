package mfa

import (
	"slices"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	i64 := func(v int64) *int64 { return &v }
	pwd := func(at time.Time) Done { return Done{MethodPassword, at} }
	otp := func(at time.Time) Done { return Done{MethodOTP, at} }
	email := func(at time.Time) Done { return Done{MethodEmail, at} }
	reqAt := ago(time.Minute)

	cases := []struct {
		name     string
		in       Input
		next     Next
		amr      []string
		acr      string
		authTime time.Time
		factors  []string
		mustBind bool
		errType  string
		// lockedUntil is checked when Next is NextFactor.
		lockedUntil time.Time
	}{
		{name: "no session asks for the password",
			in: Input{}, next: NextPassword},
		{name: "no session with prompt=none is login_required",
			in: Input{Request: Request{Prompt: []string{"none"}}}, next: NextError, errType: "login_required"},
		{name: "password session satisfies a client without factors",
			in:   Input{Session: []Done{pwd(ago(time.Hour))}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: ago(time.Hour)},
		{name: "prompt=login asks for the password again",
			in:   Input{Session: []Done{pwd(ago(time.Minute))}, Request: Request{Prompt: []string{"login"}}},
			next: NextPassword},
		{name: "prompt=login and max_age=0 are met by a password entered during this request",
			in: Input{Session: []Done{pwd(ago(30 * time.Second))},
				Request: Request{Prompt: []string{"login"}, MaxAge: i64(0), CreatedAt: reqAt}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: ago(30 * time.Second)},
		{name: "a positive max_age is measured from a password entered during this request",
			in: Input{Session: []Done{pwd(ago(10 * time.Minute))},
				Request: Request{MaxAge: i64(300), CreatedAt: ago(11 * time.Minute)}},
			next: NextPassword},
		{name: "max_age older than the password asks again",
			in:   Input{Session: []Done{pwd(ago(10 * time.Minute))}, Request: Request{MaxAge: i64(300)}},
			next: NextPassword},
		{name: "max_age=0 always asks again",
			in:   Input{Session: []Done{pwd(now)}, Request: Request{MaxAge: i64(0)}},
			next: NextPassword},
		{name: "max_age within the password's age is satisfied",
			in:   Input{Session: []Done{pwd(ago(time.Minute))}, Request: Request{MaxAge: i64(300)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: ago(time.Minute)},
		{name: "id_token_hint for another user asks for the password",
			in:   Input{User: UserState{ID: "alice"}, Session: []Done{pwd(ago(time.Minute))}, Request: Request{IDTokenHintSubject: "bob"}},
			next: NextPassword},
		{name: "client with OTP asks for a factor after the password",
			in:   Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1}, User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp"}},
		{name: "OTP-only client and no authenticator must bind",
			in:   Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp"}, mustBind: true},
		{name: "both factors enabled offers both tabs in order",
			in:   Input{Client: ClientPolicy{OTP: true, Email: true, MFAMaxAge: -1}, User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "without an authenticator the email tab comes first: the one the user can finish",
			in:   Input{Client: ClientPolicy{OTP: true, Email: true, MFAMaxAge: -1}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"email", "otp"}},
		{name: "a factor needed with prompt=none is interaction_required",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: -1}, Session: []Done{pwd(now)},
				Request: Request{Prompt: []string{"none"}}},
			next: NextError, errType: "interaction_required"},
		{name: "OTP done in the session completes with pwd, otp, mfa and the latest time",
			in: Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1}, User: UserState{HasTOTP: true},
				Session: []Done{pwd(ago(time.Hour)), otp(ago(time.Minute))}},
			next: NextDone, amr: []string{"pwd", "otp", "mfa"}, acr: "2fa", authTime: ago(time.Minute)},
		{name: "email done in the session does not satisfy an OTP-only client",
			in: Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1}, User: UserState{HasTOTP: true},
				Session: []Done{pwd(now), email(now)}},
			next: NextFactor, factors: []string{"otp"}},
		{name: "a backup code satisfies any factor",
			in: Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1},
				Session: []Done{pwd(ago(time.Hour)), {MethodBackupCode, ago(time.Hour)}}},
			next: NextDone, amr: []string{"pwd", "backup_code", "mfa"}, acr: "2fa", authTime: ago(time.Hour)},
		{name: "re-auth period 0 ignores a factor done before this request",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: 0}, Request: Request{CreatedAt: reqAt},
				Session: []Done{pwd(ago(time.Hour)), email(ago(2 * time.Minute))}},
			next: NextFactor, factors: []string{"email"}},
		{name: "re-auth period 0 accepts a factor done during this request",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: 0}, Request: Request{CreatedAt: reqAt},
				Session: []Done{pwd(ago(time.Hour)), email(ago(30 * time.Second))}},
			next: NextDone, amr: []string{"pwd", "email", "mfa"}, acr: "2fa", authTime: ago(30 * time.Second)},
		{name: "re-auth period N reuses a factor within N",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: time.Hour},
				Session: []Done{pwd(ago(2 * time.Hour)), email(ago(30 * time.Minute))}},
			next: NextDone, amr: []string{"pwd", "email", "mfa"}, acr: "2fa", authTime: ago(30 * time.Minute)},
		{name: "re-auth period N asks again after N",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: time.Hour},
				Session: []Done{pwd(ago(2 * time.Hour)), email(ago(90 * time.Minute))}},
			next: NextFactor, factors: []string{"email"}},
		{name: "workspace policy requires a factor of a member on an application without factors",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true}, User: UserState{HasTOTP: true},
				Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "workspace policy exempts the owner",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true}, User: UserState{Owner: true},
				Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "workspace policy sends a member without an authenticator to bind one",
			in:   Input{Workspace: WorkspacePolicy{MFARequired: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}, mustBind: true},
		{name: "workspace policy uses the application's factors when it has some",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Factors: []string{"otp"}},
				Client: ClientPolicy{Email: true, MFAMaxAge: -1}, User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"email"}},
		{name: "workspace policy stored before targets existed applies to the console too",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true}, Client: ClientPolicy{Console: true},
				User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "workspace policy targeting applications asks on an application",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetApplications}},
				User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "workspace policy targeting applications does not ask on the console",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetApplications}},
				Client: ClientPolicy{Console: true}, User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "workspace policy targeting the console asks on the console",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetConsole}},
				Client: ClientPolicy{Console: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}, mustBind: true},
		{name: "workspace policy targeting the console does not ask on an application",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetConsole}},
				User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "workspace policy targeting both asks on the console and on an application",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetConsole, TargetApplications}},
				Client: ClientPolicy{Console: true}, User: UserState{HasTOTP: true}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "workspace policy targeting the console exempts the owner there",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetConsole}},
				Client: ClientPolicy{Console: true}, User: UserState{Owner: true}, Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "an application's own factors apply when the workspace targets only the console",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetConsole}},
				Client: ClientPolicy{Email: true, MFAMaxAge: -1}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"email"}},
		{name: "workspace policy targeting applications does not make binding mandatory on the console",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Targets: []string{TargetApplications}},
				Client: ClientPolicy{Console: true, OTP: true, Email: true, MFAMaxAge: -1}, Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"email", "otp"}},
		{name: "a bypassed user is not asked by the application",
			in:   Input{Client: ClientPolicy{OTP: true, MFAMaxAge: -1}, User: UserState{Bypass: true}, Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "a bypassed user is not asked by the workspace",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true}, User: UserState{Bypass: true},
				Session: []Done{pwd(now)}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "acr_values=2fa asks for a factor where policy would not",
			in:   Input{Session: []Done{pwd(now)}, Request: Request{ACRValues: []string{"2fa"}}},
			next: NextFactor, factors: []string{"email", "otp"}},
		{name: "acr_values=2fa asks a bypassed user too",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: -1}, User: UserState{Bypass: true},
				Session: []Done{pwd(now)}, Request: Request{ACRValues: []string{"2fa"}}},
			next: NextFactor, factors: []string{"email"}},
		{name: "unknown acr_values are ignored",
			in:   Input{Session: []Done{pwd(now)}, Request: Request{ACRValues: []string{"urn:gold"}}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "acr_values=2fa is met by a factor in the session (step-up done before)",
			in: Input{Session: []Done{pwd(ago(time.Hour)), email(ago(time.Minute))},
				Request: Request{ACRValues: []string{"2fa"}}},
			next: NextDone, amr: []string{"pwd", "email", "mfa"}, acr: "2fa", authTime: ago(time.Minute)},
		{name: "essential acr 2fa asks for a factor",
			in:   Input{Session: []Done{pwd(now)}, Request: Request{EssentialACR: []string{"2fa"}}},
			next: NextFactor, factors: []string{"email", "otp"}},
		{name: "essential acr 2fa for an MFA-locked user is unmet_authentication_requirements",
			in: Input{User: UserState{HasTOTP: true, MFALockedUntil: now.Add(time.Hour)}, Session: []Done{pwd(now)},
				Request: Request{EssentialACR: []string{"2fa"}}},
			next: NextError, errType: "unmet_authentication_requirements"},
		{name: "essential acr 2fa with no factor StepGate can do is unmet_authentication_requirements",
			in: Input{Workspace: WorkspacePolicy{MFARequired: true, Factors: []string{"webauthn"}}, Session: []Done{pwd(now)},
				Request: Request{EssentialACR: []string{"2fa"}}},
			next: NextError, errType: "unmet_authentication_requirements"},
		{name: "essential acr 2fa once the lock has ended asks for a factor",
			in: Input{User: UserState{HasTOTP: true, MFALockedUntil: now}, Session: []Done{pwd(now)},
				Request: Request{EssentialACR: []string{"2fa"}}},
			next: NextFactor, factors: []string{"otp", "email"}},
		{name: "essential acr 1fa or 2fa for a locked user is met by the password",
			in: Input{User: UserState{MFALockedUntil: now.Add(time.Hour)}, Session: []Done{pwd(now)},
				Request: Request{EssentialACR: []string{"1fa", "2fa"}}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: now},
		{name: "a locked user asked by policy gets the factor step with the lock end",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: -1}, User: UserState{MFALockedUntil: now.Add(time.Hour)},
				Session: []Done{pwd(now)}},
			next: NextFactor, factors: []string{"email"}, lockedUntil: now.Add(time.Hour)},
		{name: "workspace policy with no factor StepGate can do is access_denied, not a page nobody can finish",
			in:   Input{Workspace: WorkspacePolicy{MFARequired: true, Factors: []string{"webauthn"}}, Session: []Done{pwd(now)}},
			next: NextError, errType: "access_denied"},
		{name: "essential acr with only unknown values is unmet_authentication_requirements",
			in:   Input{Session: []Done{pwd(now)}, Request: Request{EssentialACR: []string{"urn:gold"}}},
			next: NextError, errType: "unmet_authentication_requirements"},
		{name: "step-up: a password session is asked only for the missing factor, keeping the password time",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: -1},
				Session: []Done{pwd(ago(time.Hour)), email(now)}, Request: Request{CreatedAt: reqAt}},
			next: NextDone, amr: []string{"pwd", "email", "mfa"}, acr: "2fa", authTime: now},
		{name: "max_age applies to the password, not the second factor",
			in: Input{Client: ClientPolicy{Email: true, MFAMaxAge: -1},
				Session: []Done{pwd(ago(time.Hour)), email(now)}, Request: Request{MaxAge: i64(600)}},
			next: NextPassword},
		{name: "a client without factors does not claim a factor the session holds",
			in:   Input{Session: []Done{pwd(ago(time.Hour)), otp(ago(time.Minute))}},
			next: NextDone, amr: []string{"pwd"}, acr: "1fa", authTime: ago(time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Now = now
			got := Decide(c.in)
			if got.Next != c.next {
				t.Fatalf("Next = %v, want %v (%+v)", got.Next, c.next, got)
			}
			switch c.next {
			case NextDone:
				if !slices.Equal(got.AMR, c.amr) || got.ACR != c.acr || !got.AuthTime.Equal(c.authTime) {
					t.Errorf("got amr=%v acr=%s auth_time=%v, want %v %s %v", got.AMR, got.ACR, got.AuthTime, c.amr, c.acr, c.authTime)
				}
			case NextFactor:
				if !slices.Equal(got.Factors, c.factors) || got.MustBind != c.mustBind || !got.LockedUntil.Equal(c.lockedUntil) {
					t.Errorf("got factors=%v mustBind=%v lockedUntil=%v, want %v %v %v", got.Factors, got.MustBind, got.LockedUntil, c.factors, c.mustBind, c.lockedUntil)
				}
			case NextError:
				if got.Error == nil || string(got.Error.ErrorType) != c.errType {
					t.Errorf("got error %v, want %s", got.Error, c.errType)
				}
			}
		})
	}
}
