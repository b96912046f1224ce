package storage

import "time"

// Role is a user's place in the workspace.
type Role string

const (
	RoleOwner  Role = "owner" // exactly one; exempt from workspace MFA policy
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// User is an account that can sign in. Email is stored lower-cased and is
// unique. Zero times mean "never" / "not locked".
type User struct {
	ID           string
	Email        string
	Name         string
	Role         Role
	PasswordHash string // PHC string; never logged
	Disabled     bool
	MFABypass    bool
	LastFactor   string // factor used last, preselected on the next login

	PasswordFailures    int
	PasswordLockedUntil time.Time
	MFAFailures         int
	MFALockedUntil      time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Token formats a client can ask for.
const (
	TokenFormatJWT    = "jwt"
	TokenFormatOpaque = "opaque"
)

// Client is a relying-party application.
type Client struct {
	ID                     string
	Name                   string
	SecretHash             string // empty for public clients
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	TokenFormat            string // TokenFormatJWT or TokenFormatOpaque

	FactorOTP   bool
	FactorEmail bool
	// MFAMaxAge is how long a second factor completed in the SSO session is
	// reused for this client. 0 asks at every connection; a negative value
	// means no limit within the session.
	MFAMaxAge time.Duration

	// Lifetimes of what is issued to this client; zero is the server's. A
	// client may shorten what the server issues, never lengthen it: a
	// longer one is cut to the server's (the signing keys stay published
	// for the server's lifetimes only).
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration

	CreatedAt time.Time
	UpdatedAt time.Time
}

// FactorRecord is one authentication step completed in an SSO session.
type FactorRecord struct {
	Method string    `json:"method"` // "pwd", "otp", "email", "backup_code"
	At     time.Time `json:"at"`
}

// Session is a server-side SSO session. The cookie holds a random ID; only
// its hash is stored, so a database leak yields no usable session.
type Session struct {
	IDHash     string
	UserID     string
	Factors    []FactorRecord
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
}

// ConsoleSession is a sign-in to StepGate's own console: what the console's
// login (an OIDC code flow with StepGate) established, keyed by the hash of
// the console's cookie.
type ConsoleSession struct {
	IDHash   string
	UserID   string
	AuthTime time.Time // auth_time of the ID token that opened it
	// MFAAt is when the latest second factor of that login was done; zero
	// when it had none.
	MFAAt time.Time
	// IDToken is the ID token the login returned, the id_token_hint of the
	// console's sign-out.
	IDToken string
	// Pending is an action that waits for a fresh second factor (the
	// console's own JSON); empty when none does.
	Pending    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
}

// AuthParams are the relying party's authorization request parameters, kept
// verbatim so the login flow and the token endpoint see the same request.
type AuthParams struct {
	RedirectURI         string   `json:"redirect_uri"`
	Scopes              []string `json:"scopes"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	ResponseType        string   `json:"response_type"`
	ResponseMode        string   `json:"response_mode,omitempty"`
	CodeChallenge       string   `json:"code_challenge,omitempty"`
	CodeChallengeMethod string   `json:"code_challenge_method,omitempty"`
	Prompt              []string `json:"prompt,omitempty"`
	MaxAge              *int64   `json:"max_age,omitempty"` // seconds; nil when absent
	LoginHint           string   `json:"login_hint,omitempty"`
	IDTokenHintSubject  string   `json:"id_token_hint_sub,omitempty"`
	ACRValues           []string `json:"acr_values,omitempty"`
	Claims              string   `json:"claims,omitempty"` // raw "claims" parameter JSON
	UILocales           []string `json:"ui_locales,omitempty"`
}

// AuthRequest is an authorization request in progress, and after login the
// authorization code bound to it.
type AuthRequest struct {
	ID        string
	ClientID  string
	Params    AuthParams
	CreatedAt time.Time
	ExpiresAt time.Time

	// Filled in when the login completes.
	UserID      string
	SessionHash string
	Done        bool
	AuthTime    time.Time
	AMR         []string
	ACR         string

	// The authorization code, stored hashed; single use.
	CodeHash      string
	CodeExpiresAt time.Time
	CodeUsedAt    time.Time
}

// Token is an issued access token (opaque or JWT; the ID is the jti).
type Token struct {
	ID             string
	ClientID       string
	UserID         string
	Audience       []string
	Scopes         []string
	AMR            []string
	ACR            string
	AuthTime       time.Time
	AuthRequestID  string // the code it came from, for reuse revocation
	RefreshTokenID string // the refresh token issued with it, if any
	CreatedAt      time.Time
	ExpiresAt      time.Time
	RevokedAt      time.Time
}

// RefreshToken is a rotating refresh token. Every rotation creates a new row
// in the same family; presenting a used one revokes the whole family.
type RefreshToken struct {
	ID            string
	TokenHash     string
	FamilyID      string
	ClientID      string
	UserID        string
	Audience      []string
	Scopes        []string
	AMR           []string
	ACR           string
	AuthTime      time.Time
	AuthRequestID string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        time.Time
	RevokedAt     time.Time
}

// SigningKey is a token-signing key. The private part is sealed under the
// master key; the keys package decides which key is active from the times.
type SigningKey struct {
	ID            string // kid
	Algorithm     string // RS256, ES256
	SealedPrivate []byte
	PublicJWK     []byte // JSON
	CreatedAt     time.Time
	ActiveAt      time.Time // signs tokens from this time on (published before)
	RetiredAt     time.Time // zero while in service
}

// Factor kinds a user can bind.
const (
	FactorTOTP = "totp"
)

// FactorBinding is a user's second factor secret, e.g. a TOTP seed. A
// pending binding (ConfirmedAt zero) becomes active when the user proves it.
type FactorBinding struct {
	ID           string
	UserID       string
	Kind         string
	SealedSecret []byte
	CreatedAt    time.Time
	ConfirmedAt  time.Time
	LastUsedStep int64 // last accepted TOTP time step; replay guard
	// LastUsedAt is when a login last had a code accepted by it (see
	// UseTOTPStepAt); zero: not since it was bound.
	LastUsedAt time.Time
}

// EmailCode is a one-time code sent by email, stored hashed and bound to
// what it was sent for (a login in progress, a binding).
type EmailCode struct {
	ID        string
	UserID    string
	Purpose   string
	BoundTo   string
	CodeHash  string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// ShownBackupCodes are new backup codes waiting for the user to confirm
// they saved them: sealed under the master key, bound to the login they
// were issued in and to the browser session that may see them, and
// deleted on confirmation (or with their authorization request).
type ShownBackupCodes struct {
	AuthRequestID string
	UserID        string
	SessionHash   string
	Sealed        []byte
	CreatedAt     time.Time
}

// BackupCode is a single-use recovery code, stored as a keyed hash.
type BackupCode struct {
	ID        string
	UserID    string
	CodeHash  string
	CreatedAt time.Time
	UsedAt    time.Time
}

// Audit results.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// AuditEvent is one row of the audit trail. It never holds a code, password
// or secret.
type AuditEvent struct {
	ID         int64
	At         time.Time
	Type       string // a stable code such as mfa.otp.verify (mfa.EventTypes has the labels)
	Actor      string // who acted: "" the user themselves, "cli:<os user>" a command
	UserID     string
	Identifier string // email, or the identifier that was attempted
	ClientID   string
	IP         string
	Country    string
	UserAgent  string
	Result     string
	Reason     string
	Detail     string // free-form, non-secret context
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	UserID string
	Type   string // an event code
	Result string
	Since  time.Time // at or after
	Limit  int       // newest Limit events; 0 means no limit
}

// Lockout describes a counter that locks after Threshold consecutive
// failures for Duration.
type Lockout struct {
	Threshold int
	Duration  time.Duration
}

// FailureState is a failure counter after an update.
type FailureState struct {
	Failures    int       // attempts counted, this one included
	LockedUntil time.Time // zero unless locked
}

// Locks reports whether this attempt is the one that set the lock: if it
// fails, the account is now locked.
func (f FailureState) Locks() bool { return !f.LockedUntil.IsZero() }
