package mfa

import (
	"slices"
	"strings"
)

// Audit event types, the Type of a storage.AuditEvent: stable codes that
// filters, exports and scripts use. A code is lowercase, dot-separated
// area.object.action (account.lock: the account is the object), words
// joined by underscores; areas are auth (the password), mfa (second
// factors, bindings, bypass), account (lock state), workspace (its policy)
// and, for operations only an administrator can do, admin
// (admin.user.reset_otp). Who did it is the row's Actor, not the code. A
// code, once written, never changes meaning; people see its label (Label).
const (
	EventPassword               = "auth.password.verify"
	EventOTP                    = "mfa.otp.verify"
	EventEmail                  = "mfa.email.verify"
	EventEmailSend              = "mfa.email.send" // a refused send (older rows: mfa.email.verify, Detail "send …")
	EventBackupCode             = "mfa.backup_code.verify"
	EventOTPBound               = "mfa.otp.bind"
	EventOTPRemoved             = "mfa.otp.remove"
	EventBackupCodesRegenerated = "mfa.backup_codes.regenerate"
	EventBypassChanged          = "mfa.bypass.set"
	EventAccountLocked          = "account.lock"
	EventAccountUnlocked        = "account.unlock"
	EventWorkspacePolicyChanged = "workspace.policy.update"

	// What an administrator does to a user account. Unlocking, the MFA
	// bypass and new backup codes keep their codes above (account.unlock,
	// mfa.bypass.set, mfa.backup_codes.regenerate), whoever acts.
	EventUserCreated       = "admin.user.create"
	EventUserDisabled      = "admin.user.disable"
	EventUserEnabled       = "admin.user.enable"
	EventUserPasswordSet   = "admin.user.set_password"
	EventUserRoleSet       = "admin.user.set_role"
	EventUserOTPReset      = "admin.user.reset_otp"
	EventUserSessionsEnded = "admin.user.end_sessions"
)

// Administrators' changes of client applications.
const (
	EventClientCreated        = "admin.client.create"
	EventClientUpdated        = "admin.client.update"
	EventClientSecretRotated  = "admin.client.rotate_secret"
	EventClientDeleted        = "admin.client.delete"
	EventClientFactorsChanged = "admin.client.set_factors"
)

// EventType is an audit event code and the label shown to people.
type EventType struct {
	Code  string
	Label string
}

// eventTypes is the one table of codes and labels. Migration 0004 rewrote
// rows written before codes from these labels to these codes; a label may
// change here, a code must not.
var eventTypes = []EventType{
	{EventPassword, "Primary authentication - Password"},
	{EventOTP, "Secondary authentication - OTP"},
	{EventEmail, "Secondary authentication - Email"},
	{EventEmailSend, "Email code sending"},
	{EventBackupCode, "Secondary authentication - Backup code"},
	{EventOTPBound, "MFA bound - OTP"},
	{EventOTPRemoved, "MFA removed - OTP"},
	{EventBackupCodesRegenerated, "Backup codes regenerated"},
	{EventBypassChanged, "MFA bypass changed"},
	{EventAccountLocked, "Account locked"},
	{EventAccountUnlocked, "Account unlocked"},
	{EventWorkspacePolicyChanged, "Workspace policy changed"},
	{EventClientCreated, "Client application created"},
	{EventClientUpdated, "Client application updated"},
	{EventClientSecretRotated, "Client secret rotated"},
	{EventClientDeleted, "Client application deleted"},
	{EventClientFactorsChanged, "Client application factors changed"},
	{EventUserCreated, "User created"},
	{EventUserDisabled, "User disabled"},
	{EventUserEnabled, "User enabled"},
	{EventUserPasswordSet, "Password set by an administrator"},
	{EventUserRoleSet, "Role changed"},
	{EventUserOTPReset, "Authenticator reset"},
	{EventUserSessionsEnded, "Sessions ended"},
}

// EventTypes lists every known event type, in the table's order.
func EventTypes() []EventType { return slices.Clone(eventTypes) }

// EventCodes lists every known code, sorted.
func EventCodes() []string {
	out := make([]string, len(eventTypes))
	for i, t := range eventTypes {
		out[i] = t.Code
	}
	slices.Sort(out)
	return out
}

// IsEventCode says whether code is a known event type.
func IsEventCode(code string) bool {
	return slices.ContainsFunc(eventTypes, func(t EventType) bool { return t.Code == code })
}

// EventLabel is the label of code, or code itself when it is unknown (a row
// written by a newer version), so nothing is ever shown blank.
func EventLabel(code string) string {
	for _, t := range eventTypes {
		if t.Code == code {
			return t.Label
		}
	}
	return code
}

// EventCodeList is the known codes joined for an error message.
func EventCodeList() string { return strings.Join(EventCodes(), ", ") }

// Actors of audit rows, the Actor of a storage.AuditEvent. The empty actor
// is the user the row is about, acting for themselves (a login); the CLI is
// ActorCLI followed by the operating-system user ("cli:alice").
const (
	ActorUser = ""
	ActorCLI  = "cli"
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
