package mfa

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Second factors a client can require.
const (
	FactorOTP   = MethodOTP
	FactorEmail = MethodEmail
)

// ClientPolicy is what an application asks of its logins.
type ClientPolicy struct {
	OTP   bool
	Email bool
	// MFAMaxAge: how long a second factor done in the SSO session is reused
	// for this client. 0: done during this very authorization request;
	// negative: any time in the session.
	MFAMaxAge time.Duration
	// Console is set when the login is for StepGate's own console rather
	// than a client application: the workspace's mandatory MFA applies to
	// it only when the policy targets the console.
	Console bool
}

// Factors lists the enabled factors in tab order.
func (c ClientPolicy) Factors() []string {
	var out []string
	if c.OTP {
		out = append(out, FactorOTP)
	}
	if c.Email {
		out = append(out, FactorEmail)
	}
	return out
}

// WorkspacePolicy is the workspace-wide rule: when MFARequired, every
// member but the owner needs a second factor on every login of the kinds
// Targets names (the console, client applications), one of Factors where
// the application enables none itself.
type WorkspacePolicy struct {
	MFARequired bool     `json:"mfa_required"`
	Factors     []string `json:"factors"`
	// Targets are TargetConsole and/or TargetApplications. Empty — every
	// policy stored before targets existed — is both, as such a policy
	// applied to every login.
	Targets []string `json:"targets,omitempty"`
}

// What the workspace's mandatory MFA can apply to.
const (
	TargetConsole      = "console"      // StepGate's own console
	TargetApplications = "applications" // the client applications
)

// AllTargets are the targets in display order; a policy without targets
// applies to all of them.
var AllTargets = []string{TargetConsole, TargetApplications}

// DefaultWorkspaceFactors are offered where neither the application nor the
// workspace names any.
var DefaultWorkspaceFactors = []string{FactorOTP, FactorEmail}

// UserState is what the decision needs to know of the user.
type UserState struct {
	ID             string
	Owner          bool // exempt from the workspace policy
	Bypass         bool // never asked for a second factor by policy
	HasTOTP        bool
	HasBackupCodes bool
	// MFALockedUntil is the end of a second-factor lock; while it is in the
	// future no code is accepted.
	MFALockedUntil time.Time
}

// Locked reports whether second-factor sign-in is locked at now.
func (u UserState) Locked(now time.Time) bool { return now.Before(u.MFALockedUntil) }

// Done is one authentication step completed in the SSO session.
type Done struct {
	Method string
	At     time.Time
}

// Request is the relying party's authorization request, as it matters here.
type Request struct {
	Prompt             []string
	MaxAge             *int64 // seconds
	IDTokenHintSubject string
	CreatedAt          time.Time // when the authorization request arrived
	// ACRValues are the voluntary acr_values; EssentialACR the values of an
	// essential acr claim in the claims parameter, which must be met.
	ACRValues    []string
	EssentialACR []string
}

// Input is everything the decision depends on. Session is nil when the
// browser has no live SSO session; User is then unknown.
type Input struct {
	Client    ClientPolicy
	Workspace WorkspacePolicy
	User      UserState
	Session   []Done // nil: no session
	Request   Request
	Now       time.Time
}

// Next says what the login must do next.
type Next int

const (
	NextDone     Next = iota // issue the code, with AMR/ACR/AuthTime
	NextPassword             // ask for the password
	NextFactor               // ask for one of Factors (bind OTP first if chosen and not bound)
	NextError                // end the request with Error
)

// Decision is the outcome of Decide.
type Decision struct {
	Next Next
	// Factors are the second factors that would satisfy the request, in tab
	// order, when Next is NextFactor. Backup codes are offered besides them
	// when the user has some (BackupAllowed).
	// Factors are listed so that the first is one the user can finish now:
	// email before an authenticator that is not bound yet.
	Factors       []string
	BackupAllowed bool
	// LockedUntil is set when Next is NextFactor and second-factor sign-in
	// is locked: no code is accepted and none is sent before then.
	LockedUntil time.Time
	// MustBind is set when the only way forward is to bind an authenticator:
	// the user has none and OTP is the only factor, or the workspace policy
	// requires the factor.
	MustBind bool
	// When Next is NextDone: the claims for the tokens.
	AMR      []string
	ACR      string
	AuthTime time.Time
	// When Next is NextError: the OAuth error for the client.
	Error *oidc.Error
}

// Decide is the one place that decides what a login still needs. It is pure:
// the handlers gather the values and render the result.
//
// A second factor is needed when the application enables one, when the
// workspace requires it for this kind of login (the console or a client
// application; never for the owner), or when the relying party asks
// for acr 2fa (voluntarily in acr_values or essentially in claims). Per-user
// bypass cancels the first two, never the relying party's request. An
// essential acr that StepGate cannot achieve ends with
// unmet_authentication_requirements: an unknown value, and also an
// essential 2fa for a user who cannot do a second factor now (locked, or no
// factor that could be used).
func Decide(in Input) Decision {
	none := slices.Contains(in.Request.Prompt, oidc.PromptNone)
	if len(in.Request.EssentialACR) > 0 && !slices.Contains(in.Request.EssentialACR, ACROneFactor) &&
		!slices.Contains(in.Request.EssentialACR, ACRTwoFactor) {
		return Decision{Next: NextError, Error: errUnmet()}
	}
	pwdAt, ok := doneAt(in.Session, MethodPassword)
	if !ok || needsPassword(in.Request, pwdAt, in.User.ID, in.Now) {
		if none {
			return Decision{Next: NextError, Error: oidc.ErrLoginRequired()}
		}
		return Decision{Next: NextPassword}
	}
	counted := []Done{{MethodPassword, pwdAt}}
	allowed, byWorkspace := required(in)
	if len(allowed) > 0 {
		second, ok := secondFactor(in, allowed)
		if !ok {
			usable := usableFactors(allowed)
			locked := in.User.Locked(in.Now)
			if essentialTwoFactor(in.Request) && (locked || (len(usable) == 0 && !in.User.HasBackupCodes)) {
				return Decision{Next: NextError, Error: errUnmet().WithDescription("a second factor is required but cannot be done now")}
			}
			if none {
				return Decision{Next: NextError, Error: oidc.ErrInteractionRequired().WithDescription("a second factor is required")}
			}
			if len(usable) == 0 && !in.User.HasBackupCodes {
				// Nothing the user could do: the policy names no factor
				// StepGate has. Refuse rather than show a page nobody can
				// finish.
				return Decision{Next: NextError, Error: oidc.ErrAccessDenied().WithDescription("no second factor is available for this application")}
			}
			otpOnly := len(usable) == 1 && usable[0] == FactorOTP
			d := Decision{
				Next: NextFactor, Factors: usable, BackupAllowed: in.User.HasBackupCodes,
				MustBind: !in.User.HasTOTP && slices.Contains(usable, FactorOTP) && (otpOnly || byWorkspace),
			}
			if !in.User.HasTOTP && !d.MustBind && slices.Contains(usable, FactorEmail) {
				d.Factors = orderEmailFirst(usable)
			}
			if locked {
				d.LockedUntil = in.User.MFALockedUntil
			}
			return d
		}
		counted = append(counted, second)
	}
	return done(counted)
}

// required returns the factors that may satisfy this login, or nil when it
// needs none, and whether the workspace policy is what requires them.
func required(in Input) (factors []string, byWorkspace bool) {
	fallback := in.Client.Factors()
	if len(fallback) == 0 {
		fallback = in.Workspace.Factors
		if len(fallback) == 0 {
			fallback = DefaultWorkspaceFactors
		}
	}
	rp := slices.Contains(in.Request.ACRValues, ACRTwoFactor) || essentialTwoFactor(in.Request)
	if !in.User.Bypass {
		if in.Workspace.MFARequired && !in.User.Owner && in.Workspace.AppliesTo(in.Client.Console) {
			return fallback, true
		}
		if f := in.Client.Factors(); len(f) > 0 {
			return f, false
		}
	}
	if rp {
		return fallback, false
	}
	return nil, false
}

// usableFactors keeps the factors StepGate can do, in order.
func usableFactors(allowed []string) []string {
	out := make([]string, 0, len(allowed))
	for _, f := range allowed {
		if f == FactorOTP || f == FactorEmail {
			out = append(out, f)
		}
	}
	return out
}

// orderEmailFirst puts email before the others: without an authenticator,
// an emailed code is the one the user can finish at once.
func orderEmailFirst(factors []string) []string {
	out := []string{FactorEmail}
	for _, f := range factors {
		if f != FactorEmail {
			out = append(out, f)
		}
	}
	return out
}

// essentialTwoFactor: the claims parameter makes 2fa essential (and 1fa
// would not do).
func essentialTwoFactor(r Request) bool {
	return slices.Contains(r.EssentialACR, ACRTwoFactor) && !slices.Contains(r.EssentialACR, ACROneFactor)
}

// needsPassword: prompt=login, max_age (0 always), or an id_token_hint for
// another user send the user back to the password.
func needsPassword(r Request, pwdAt time.Time, userID string, now time.Time) bool {
	if r.IDTokenHintSubject != "" && r.IDTokenHintSubject != userID {
		return true
	}
	// A password entered during this very request meets prompt=login and
	// max_age=0; a positive max_age is still measured from it, however long
	// the rest of the login takes.
	duringRequest := !r.CreatedAt.IsZero() && !pwdAt.Before(r.CreatedAt)
	if slices.Contains(r.Prompt, oidc.PromptLogin) && !duringRequest {
		return true
	}
	switch {
	case r.MaxAge == nil:
		return false
	case *r.MaxAge == 0:
		return !duringRequest
	default:
		return now.Sub(pwdAt) > time.Duration(*r.MaxAge)*time.Second
	}
}

// secondFactor finds the most recent second factor in the session that this
// request may reuse: one of the client's factors or a backup code, done
// within the client's re-authentication period.
func secondFactor(in Input, allowed []string) (Done, bool) {
	var best Done
	found := false
	for _, d := range in.Session {
		if !slices.Contains(allowed, d.Method) && d.Method != MethodBackupCode {
			continue
		}
		switch age := in.Client.MFAMaxAge; {
		case age == 0 && d.At.Before(in.Request.CreatedAt):
			continue
		case age > 0 && in.Now.Sub(d.At) > age:
			continue
		}
		if !found || d.At.After(best.At) {
			best, found = d, true
		}
	}
	return best, found
}

func done(counted []Done) Decision {
	methods := make([]string, len(counted))
	var authTime time.Time
	for i, d := range counted {
		methods[i] = d.Method
		if d.At.After(authTime) {
			authTime = d.At
		}
	}
	amr, acr := Claims(methods)
	return Decision{Next: NextDone, AMR: amr, ACR: acr, AuthTime: authTime}
}

// errUnmet is OIDC Core §3.1.2.6's unmet_authentication_requirements, which
// the library does not define.
func errUnmet() *oidc.Error {
	return &oidc.Error{ErrorType: "unmet_authentication_requirements",
		Description: "none of the essential acr values can be achieved; supported: 1fa, 2fa"}
}

func doneAt(session []Done, method string) (time.Time, bool) {
	for _, d := range session {
		if d.Method == method {
			return d.At, true
		}
	}
	return time.Time{}, false
}
