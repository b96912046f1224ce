package mfa

// Audit event types, the Type of a storage.AuditEvent. They are shown to
// administrators as they are.
const (
	EventPassword               = "Primary authentication - Password"
	EventOTP                    = "Secondary authentication - OTP"
	EventEmail                  = "Secondary authentication - Email"
	EventBackupCode             = "Secondary authentication - Backup code"
	EventOTPBound               = "MFA bound - OTP"
	EventOTPRemoved             = "MFA removed - OTP"
	EventAccountLocked          = "Account locked"
	EventAccountUnlocked        = "Account unlocked"
	EventBackupCodesRegenerated = "Backup codes regenerated"
)

// Failure reasons, the Reason of a storage.AuditEvent. The user is told
// only that the attempt failed; the audit row says precisely why.
const (
	ReasonWrongPassword    = "wrong_password"
	ReasonWrongCode        = "wrong_code"
	ReasonExpiredCode      = "expired_code"
	ReasonReplayedCode     = "replayed_code"
	ReasonNoCode           = "no_code"            // no code was sent, or it was for another login
	ReasonLocked           = "locked"             // the counter is locked; the attempt was not evaluated
	ReasonRateLimited      = "rate_limited"       // e.g. too many email codes sent
	ReasonBusy             = "busy"               // password hashing had no free slot
	ReasonUnknownUser      = "unknown_user"       // no account with that email
	ReasonDisabled         = "disabled"           // the account is disabled
	ReasonNotBound         = "not_bound"          // the user has no such factor
	ReasonFactorNotAllowed = "factor_not_allowed" // the client does not accept this factor
)
